"""``accounts-facade-driver``: projects (tenants), members, profiles, billing, support tickets and
invitations."""

from __future__ import annotations

from typing import Optional

from .. import cursor
from ..call import CallState, DriverError, conflict, invalid, new_id, not_found, parse_id
from ..rows import (invitation, membership_row, membership_snapshot, subscription, tenant_detail, tenant_snapshot,
                    ticket, user_detail, user_row, user_snapshot)
from ._json import is_json_object
from ._memberships import insert_membership_row
from ._statements import one_required
from ._users import fetch_user, visible_user


def _fetch_tenant_record(call: CallState, tenant_id: str):
    t = call.tenant(tenant_id)
    return call.one("accounts-facade-driver/fetch-tenant-by-id", t)


def _end_invitation(call: CallState, tenant_id: str, invitation_id: str, status: str) -> dict:
    """Moves a pending invitation to a final status; ``conflict`` if it is no longer pending."""
    t = call.tenant(tenant_id)
    i = parse_id(invitation_id)
    accepted_at = call.now if status == "accepted" else None
    row = call.one("accounts-facade-driver/end-invitation-write", t, i, status, accepted_at)
    if row is not None:
        return invitation(row)
    exists = call.scalar("accounts-facade-driver/end-invitation-exists", t, i)
    raise conflict("the invitation is no longer pending") if exists > 0 else not_found("invitation")


# --- tenant / project -----------------------------------------------------------------------------------


def fetch_tenants(call: CallState, tenant_id: str, status: Optional[str], limit: int, offset: int) -> list:
    t = call.tenant(tenant_id)
    limit = min(max(limit, 1), 1000)
    rows = call.all("accounts-facade-driver/fetch-tenants", t, status, limit, offset)
    return [tenant_snapshot(r) for r in rows]


def count_tenants(call: CallState, tenant_id: str, status: Optional[str]) -> int:
    t = call.tenant(tenant_id)
    return call.scalar("accounts-facade-driver/count-tenants", t, status)


def fetch_tenant_detail(call: CallState, tenant_id: str) -> Optional[dict]:
    row = _fetch_tenant_record(call, tenant_id)
    return None if row is None else tenant_detail(row)


def insert_project(call: CallState, name: str, slug: str, description: Optional[str]) -> dict:
    tenant_id = new_id()
    # Quotas, counters, status and onboarding state take the schema's defaults: the free plan.
    row = call.one("accounts-facade-driver/insert-project", tenant_id, name, slug, description, call.now)
    if row is None:
        raise conflict(f"the slug '{slug}' is taken")
    call.created_tenant(tenant_id)
    return tenant_detail(row)


# --- users and memberships ------------------------------------------------------------------------------


def fetch_users(call: CallState, tenant_id: str, role: Optional[str], status: Optional[str], page: dict) -> dict:
    t = call.tenant(tenant_id)
    limit = cursor.fetch_limit(page)
    after = cursor.decode(page)
    # A role is sought in an index by statements of its own (the catalogue says why).
    users = "fetch-users" if role is None else "fetch-users-with-role"
    if after is None:
        rows = call.all(f"accounts-facade-driver/{users}-first-page", t, role, status, limit)
    else:
        after_id = parse_id(after[1])
        rows = call.all(f"accounts-facade-driver/{users}-next-page", t, role, status, limit, after[0], after_id)
    next_cursor = cursor.finish(rows, page, lambda m: (m["email"], m["id"]))
    return {"items": [user_snapshot(m) for m in rows], "next": next_cursor}


def count_users(call: CallState, tenant_id: str, role: Optional[str], status: Optional[str], up_to: int) -> int:
    t = call.tenant(tenant_id)
    # Every membership has its user (a foreign key): without a status filter the memberships alone are
    # counted, from an index.
    users = "count-users" if role is None else "count-users-with-role"
    if status is None:
        return call.scalar(f"accounts-facade-driver/{users}-any-status", t, role, cursor.count_limit(up_to))
    return call.scalar(f"accounts-facade-driver/{users}-with-status", t, role, status, cursor.count_limit(up_to))


def fetch_user_detail(call: CallState, tenant_id: str, user_id: str) -> Optional[dict]:
    t = call.tenant(tenant_id)
    u = parse_id(user_id)
    row = call.one("accounts-facade-driver/fetch-user-detail", t, u)
    return None if row is None else user_detail(row)


def fetch_tenant_memberships(call: CallState, tenant_id: str, page: dict) -> dict:
    t = call.tenant(tenant_id)
    limit = cursor.fetch_limit(page)
    after = cursor.decode(page)
    if after is None:
        rows = call.all("accounts-facade-driver/fetch-tenant-memberships-first-page", t, limit)
    else:
        at, after_id = cursor.time_key(after[0]), parse_id(after[1])
        rows = call.all("accounts-facade-driver/fetch-tenant-memberships-next-page", t, limit, at, after_id)
    next_cursor = cursor.finish(rows, page, lambda m: (str(m["membership_created_at"]), m["membership_id"]))
    return {"items": [membership_snapshot(m) for m in rows], "next": next_cursor}


def fetch_membership(call: CallState, tenant_id: str, user_id: str) -> Optional[dict]:
    t = call.tenant(tenant_id)
    row = call.one("accounts-facade-driver/fetch-membership", t, parse_id(user_id))
    return None if row is None else membership_row(row)


def fetch_membership_with_user(call: CallState, tenant_id: str, user_id: str) -> Optional[dict]:
    t = call.tenant(tenant_id)
    u = parse_id(user_id)
    # One statement: every engine call of a person starts here (their role and their account status).
    row = call.one("accounts-facade-driver/fetch-membership-with-user", t, u)
    if row is None:
        return None
    membership = {"id": row["membership_id"], "tenant_id": row["tenant_id"], "user_id": row["user_id"],
                  "role": row["role"], "invited_by": row["invited_by"], "created_at": row["membership_created_at"]}
    return {"membership": membership, "user": user_row(row)}


def update_membership_role(call: CallState, tenant_id: str, membership_id: str, new_role: str) -> dict:
    t = call.tenant(tenant_id)
    m = parse_id(membership_id)
    updated = call.execute("accounts-facade-driver/update-membership-role-write", t, m, new_role)
    if updated == 0:
        raise not_found("membership")
    return membership_snapshot(one_required(call, "accounts-facade-driver/update-membership-role-read", m))


def delete_membership(call: CallState, tenant_id: str, membership_id: str) -> bool:
    t = call.tenant(tenant_id)
    m = parse_id(membership_id)
    return call.execute("accounts-facade-driver/delete-membership", t, m) > 0


# --- profile --------------------------------------------------------------------------------------------


def fetch_profile(call: CallState, tenant_id: str, user_id: str) -> Optional[dict]:
    t = call.tenant(tenant_id)
    u = parse_id(user_id)
    row = call.one("accounts-facade-driver/fetch-profile", t, u)
    # Someone else's profile is visible only when they are a member of the tenant.
    own = call.is_caller_user(u)
    if row is None or not (row["role"] is not None or own or call.platform):
        return None
    return {"user_id": row["id"], "email": row["email"], "name": row["name"], "avatar_url": row["avatar_url"],
            "tenant_id": t, "tenant_name": row["tenant_name"], "role": row["role"], "created_at": row["created_at"],
            "updated_at": row["updated_at"], "preferences": row["preferences_json"]}


def fetch_user_by_id(call: CallState, user_id: str) -> Optional[dict]:
    user = visible_user(call, fetch_user(call, parse_id(user_id)))
    return None if user is None else user_row(user)


def count_owned_tenants(call: CallState, user_id: str) -> int:
    u = parse_id(user_id)
    call.may_read_user(u)
    return call.scalar("accounts-facade-driver/count-owned-tenants", u)


def update_user_profile(call: CallState, user_id: str, name: Optional[str], preferences: Optional[str]) -> dict:
    u = parse_id(user_id)
    call.may_write_user(u)
    if preferences is not None and not is_json_object(preferences):
        raise invalid("preferences must be a JSON object")
    updated = call.execute("accounts-facade-driver/update-user-profile", u, name, preferences, call.now)
    if updated == 0:
        raise not_found("user")
    user = fetch_user(call, u)
    if user is None:
        raise not_found("user")
    return user_row(user)


# --- billing --------------------------------------------------------------------------------------------


def fetch_subscription(call: CallState, tenant_id: str) -> Optional[dict]:
    t = call.tenant(tenant_id)
    row = call.one("accounts-facade-driver/fetch-subscription", t)
    return None if row is None else subscription(row)


# --- support tickets ------------------------------------------------------------------------------------


def insert_support_ticket(call: CallState, tenant_id: str, user_id: str, subject: str, description: str,
                          category: str, priority: str) -> dict:
    t = call.tenant(tenant_id)
    u = parse_id(user_id)
    row = one_required(call, "accounts-facade-driver/insert-support-ticket", new_id(), t, u, subject, description,
                       category, priority, call.now)
    return ticket(row)


def fetch_support_tickets(call: CallState, tenant_id: str, status: Optional[str], page: dict) -> dict:
    t = call.tenant(tenant_id)
    limit = cursor.fetch_limit(page)
    after = cursor.decode(page)
    if after is None:
        rows = call.all("accounts-facade-driver/fetch-support-tickets-first-page", t, status, limit)
    else:
        at, after_id = cursor.time_key(after[0]), parse_id(after[1])
        rows = call.all("accounts-facade-driver/fetch-support-tickets-next-page", t, status, limit, at, after_id)
    next_cursor = cursor.finish(rows, page, lambda r: (str(r["created_at"]), r["id"]))
    return {"items": [ticket(r) for r in rows], "next": next_cursor}


# --- invitations ----------------------------------------------------------------------------------------


def count_pending_invitations(call: CallState, tenant_id: str) -> int:
    t = call.tenant(tenant_id)
    return call.scalar("accounts-facade-driver/count-pending-invitations", t, call.now)


def fetch_invitation_by_email(call: CallState, tenant_id: str, email: str, status: str) -> Optional[dict]:
    t = call.tenant(tenant_id)
    row = call.one("accounts-facade-driver/fetch-invitation-by-email", t, email, status)
    return None if row is None else invitation(row)


def insert_invitation(call: CallState, tenant_id: str, email: str, role: str, token_hash: str,
                      invited_by: Optional[str], expires_at: int) -> dict:
    t = call.tenant(tenant_id)
    inviter = None if invited_by is None else parse_id(invited_by)
    row = call.one("accounts-facade-driver/insert-invitation", new_id(), t, email, role, token_hash, inviter, call.now,
                   expires_at)
    if row is None:
        raise conflict("an invitation is already pending for this e-mail")
    return invitation(row)


def fetch_invitations(call: CallState, tenant_id: str, status: Optional[str], page: dict) -> dict:
    t = call.tenant(tenant_id)
    limit = cursor.fetch_limit(page)
    after = cursor.decode(page)
    if after is None:
        rows = call.all("accounts-facade-driver/fetch-invitations-first-page", t, status, limit)
    else:
        at, after_id = cursor.time_key(after[0]), parse_id(after[1])
        rows = call.all("accounts-facade-driver/fetch-invitations-next-page", t, status, limit, at, after_id)
    next_cursor = cursor.finish(rows, page, lambda r: (str(r["created_at"]), r["id"]))
    return {"items": [invitation(r) for r in rows], "next": next_cursor}


def fetch_invitation_by_id_and_token(call: CallState, invitation_id: str, token_hash: str) -> Optional[dict]:
    try:
        i = parse_id(invitation_id)
    except DriverError:
        return None  # a malformed id names no invitation
    row = call.one("accounts-facade-driver/fetch-invitation-by-id-and-token", i, token_hash)
    if row is None:
        return None
    # The token is the capability: a call without a tenant gains the invitation's.
    call.admit_tenant_by_token(row["tenant_id"])
    if not call.in_scope(row["tenant_id"]):
        return None
    return invitation(row)


def fetch_user_by_email(call: CallState, email: str) -> Optional[dict]:
    row = call.one("accounts-facade-driver/fetch-user-by-email", email)
    user = visible_user(call, row)
    return None if user is None else user_row(user)


def insert_membership(call: CallState, tenant_id: str, user_id: str, role: str, invited_by: Optional[str]) -> dict:
    t = call.tenant(tenant_id)
    u = parse_id(user_id)
    call.may_write_user(u)
    inviter = None if invited_by is None else parse_id(invited_by)
    row = insert_membership_row(call, t, u, role, inviter)
    # A person's first tenant becomes their default, so that a credential naming no tenant finds it.
    call.execute("accounts-facade-driver/insert-membership-set-default-tenant", u, t, call.now)
    return membership_row(row)


def update_invitation_accepted(call: CallState, tenant_id: str, invitation_id: str) -> dict:
    return _end_invitation(call, tenant_id, invitation_id, "accepted")


def update_invitation_expired(call: CallState, tenant_id: str, invitation_id: str) -> dict:
    return _end_invitation(call, tenant_id, invitation_id, "expired")


def update_invitation_revoked(call: CallState, tenant_id: str, invitation_id: str) -> dict:
    return _end_invitation(call, tenant_id, invitation_id, "revoked")
