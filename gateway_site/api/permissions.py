"""Who may call what: Django model permissions, given by the role groups (viewer, trader,
risk_officer, admin; see exchanges/migrations/0006_roles.py), and grants for accounts.

Reading needs the model's `view_` permission (DRF's own class lets any user read); writing
needs `add_`/`change_`/`delete_`. An action of a viewset may name its own permissions in
`action_permissions`. Which accounts a user sees is `exchanges.selectors.accounts_visible_to`.
"""

from __future__ import annotations

from auditlog.context import auditlog_value
from rest_framework import permissions
from rest_framework.request import Request


class ModelPermissions(permissions.DjangoModelPermissions):
    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": [],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_permission(self, request: Request, view) -> bool:
        if request.user.is_authenticated and not hasattr(view, request.method.lower()):
            return True  # no such operation: the view answers 405, not 403
        named = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        if named is not None:
            return bool(request.user and request.user.is_authenticated) and (
                request.user.has_perms(named)
            )
        return super().has_permission(request, view)


class AuditedMixin:
    """Puts the API user on the audit log's entries. Token users are known only once DRF has
    authenticated the request, after the audit middleware ran, so the actor is set here."""

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        context = auditlog_value.get(None)
        if context is not None and request.user.is_authenticated:
            context["actor"] = request.user
