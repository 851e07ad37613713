"""Sign-in roles, the schools each person may see, the audit log, and managing who may sign in.

The app signs people in with Streamlit's OIDC (``st.login``) when a deployment configures it; this package
holds everything that does not need Streamlit, so the command line and the tests use the same rules:

- :mod:`analytics.access.roles`: the four roles and :func:`can` (what each may do)
- :mod:`analytics.access.scope`: :func:`scope_urns` (which schools a person may see)
- :mod:`analytics.access.audit`: :func:`record_audit` and reading the log back
- :mod:`analytics.access.users`: adding, changing and removing people, and signing in
- :mod:`analytics.access.stamped`: writes that record who made them
"""

from __future__ import annotations

from analytics.access.audit import audit_records, read_audit, record_audit, record_audit_once
from analytics.access.roles import (
    ACTIONS,
    ADMIN,
    HR_NOTES_LABEL,
    IMPORT,
    LEAD_HEAD,
    MANAGE_USERS,
    NAME_UNSIGNED,
    OFFICER,
    READ,
    RECORD,
    ROLE_HELP,
    ROLE_LABELS,
    ROLES,
    VIEWER,
    AccessError,
    User,
    can,
    may_read_restricted_notes,
)
from analytics.access.scope import may_see, scope_groups, scope_urns
from analytics.access.stamped import record_decision_as
from analytics.access.users import (
    KEEP,
    SignIn,
    add_user,
    change_role,
    get_user,
    list_users,
    remove_user,
    set_hr_notes,
    sign_in,
    user_history,
)

__all__ = [
    "ACTIONS",
    "ADMIN",
    "HR_NOTES_LABEL",
    "IMPORT",
    "KEEP",
    "LEAD_HEAD",
    "MANAGE_USERS",
    "NAME_UNSIGNED",
    "OFFICER",
    "READ",
    "RECORD",
    "ROLES",
    "ROLE_HELP",
    "ROLE_LABELS",
    "VIEWER",
    "AccessError",
    "SignIn",
    "User",
    "add_user",
    "audit_records",
    "can",
    "change_role",
    "get_user",
    "list_users",
    "may_read_restricted_notes",
    "may_see",
    "read_audit",
    "record_audit",
    "record_audit_once",
    "record_decision_as",
    "remove_user",
    "scope_groups",
    "scope_urns",
    "set_hr_notes",
    "sign_in",
    "user_history",
]
