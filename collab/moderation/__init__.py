"""Moderation: members flag content, moderators review a queue and hide, restore or delete."""
