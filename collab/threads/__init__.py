"""Threads (discussion, question, idea, announcement) and their posts."""
