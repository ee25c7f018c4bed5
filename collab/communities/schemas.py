"""Communities and memberships in and out."""
from marshmallow import ValidationError, fields, validate, validates, validates_schema

from collab.communities.models import MembershipStatus, Role, Visibility
from collab.people.schemas import AUDIENCE, HANDLE, UserRef
from collab.schemas import Id, PageArgs, Pattern, StrictSchema, plain_name

SLUG = Pattern(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$",
                 error="1-64 lowercase letters, digits and inner hyphens.")
VISIBILITY = validate.OneOf([v.value for v in Visibility])
ROLE = validate.OneOf([r.value for r in Role])


def _unique(values: list) -> None:
    if len(set(values)) != len(values):
        raise ValidationError("Values must be unique.")


class CommunityFields(StrictSchema):
    name = fields.String(validate=[validate.Length(1, 120), plain_name])
    purpose = fields.String(validate=validate.Length(1, 2000),
                            metadata={"description": "Why this community exists."})
    description = fields.String(validate=validate.Length(max=20000))
    visibility = fields.String(validate=VISIBILITY)
    audiences = fields.List(fields.String(validate=AUDIENCE), validate=validate.Length(1, 3))
    organizations = fields.List(fields.String(validate=validate.Length(1, 120)),
                                validate=validate.Length(max=100),
                                metadata={"description": "Partner/customer companies allowed."})

    @validates("audiences")
    def _audiences_unique(self, value, **kwargs):
        _unique(value)

    @validates("organizations")
    def _organizations_unique(self, value, **kwargs):
        _unique(value)


class CommunityCreate(CommunityFields):
    slug = fields.String(required=True, validate=SLUG)
    name = fields.String(required=True, validate=[validate.Length(1, 120), plain_name])
    purpose = fields.String(required=True, validate=validate.Length(1, 2000))
    visibility = fields.String(load_default=Visibility.OPEN.value, validate=VISIBILITY)
    audiences = fields.List(fields.String(validate=AUDIENCE), load_default=lambda: ["employee"],
                            validate=validate.Length(1, 3))


class CommunityUpdate(CommunityFields):
    archived = fields.Boolean()


class MyMembership(StrictSchema):
    role = fields.String()
    status = fields.String()


class CommunityOut(StrictSchema):
    id = fields.Integer()
    slug = fields.String()
    name = fields.String()
    purpose = fields.String()
    description = fields.String()
    visibility = fields.String()
    audiences = fields.List(fields.String())
    organizations = fields.List(fields.String())
    archived = fields.Boolean()
    created_at = fields.DateTime()
    member_count = fields.Integer()
    my_membership = fields.Nested(MyMembership, allow_none=True)
    pending_requests = fields.Integer(
        allow_none=True, metadata={"description": "Requests to join awaiting approval; shown to "
                                                  "the community's owners, moderators and admins "
                                                  "(null for everyone else)."})

    def dump(self, obj, *, many=None):
        """A list page's CommunityListing built directly, as marshmallow would dump it (its
        generic fields were most of the page's CPU); anything else, and a schema with `only` or
        `exclude`, marshmallow's way. tests/api/test_community_listing.py compares both."""
        from collab.communities.service import CommunityListing

        many = self.many if many is None else many
        if (many or self.only or self.exclude or type(self) is not CommunityOut
                or type(obj) is not CommunityListing):
            return super().dump(obj, many=many)
        return _community_out(obj)


def _community_out(listing) -> dict:
    """CommunityOut's fields of a CommunityListing, coerced as its fields coerce them."""
    membership = listing.my_membership
    return {
        "id": listing.id,
        "slug": listing.slug,
        "name": listing.name,
        "purpose": listing.purpose,
        "description": listing.description,
        "visibility": listing.visibility,
        "audiences": list(listing.audiences),
        "organizations": list(listing.organizations),
        "archived": bool(listing.archived),
        "created_at": listing.created_at.isoformat(),
        "member_count": int(listing.member_count),
        "my_membership": None if membership is None else {
            "role": str(membership.role), "status": str(membership.status)},
        "pending_requests": (None if listing.pending_requests is None
                             else int(listing.pending_requests)),
    }


class CommunityListArgs(PageArgs):
    member = fields.Boolean(metadata={"description": "Only communities I am an active member of."})
    visibility = fields.String(validate=VISIBILITY)
    audience = fields.String(validate=AUDIENCE)
    archived = fields.Boolean()


class MemberAdd(StrictSchema):
    user_id = Id(metadata={"description": "Omit (with `handle`) to join yourself; set to invite."})
    handle = fields.String(validate=HANDLE,
                           metadata={"description": "Invite by handle instead of `user_id`."})
    role = fields.String(validate=ROLE)

    @validates_schema
    def _one_user(self, data, **kwargs):
        if "user_id" in data and "handle" in data:
            message = "Give either user_id or handle, not both."
            raise ValidationError({"user_id": [message], "handle": [message]})


class MemberUpdate(StrictSchema):
    role = fields.String(validate=ROLE)
    status = fields.String(validate=validate.OneOf([MembershipStatus.ACTIVE, MembershipStatus.BANNED]))


class MemberListArgs(PageArgs):
    status = fields.String(
        validate=validate.OneOf([s.value for s in MembershipStatus]),
        metadata={"description": "Omitted: active members, and for owners, moderators and admins "
                                 "also pending requests (listed first)."})
    role = fields.String(validate=ROLE)


class MembershipOut(StrictSchema):
    user = fields.Nested(UserRef)
    role = fields.String()
    status = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class InvitationCommunity(StrictSchema):
    slug = fields.String()
    name = fields.String()
    purpose = fields.String()
    visibility = fields.String()
    archived = fields.Boolean()


class InvitationOut(StrictSchema):
    """A pending invitation, readable even where the community itself is still a 404."""

    community = fields.Nested(InvitationCommunity)
    role = fields.String()
    invited_by = fields.Nested(UserRef, allow_none=True)
    created_at = fields.DateTime(metadata={"description": "When the invitation was sent."})
