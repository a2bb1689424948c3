"""The back office (Unfold) base: who may use it, how service errors reach the form, and the
read-only audit log.

Every admin in Fangkong derives from BackOfficeAdmin. It is read-only unless a subclass turns
on `allow_add` / `allow_change` for a model whose writes it routes through a service (in
`save_model`). Nothing is ever deleted from the admin: no service deletes.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, StackedInline
from unfold.decorators import display

from .exceptions import DomainError
from .models import AuditEvent, AuditReason


def is_back_office_user(user: Any) -> bool:
    """Active staff accounts with the system administrator's policy (or superusers).

    The policy comes from the account itself (accounts.User.policy): core imports no app.
    """
    if not (getattr(user, "is_active", False) and getattr(user, "is_staff", False)):
        return False
    if getattr(user, "is_superuser", False):
        return True
    policy = getattr(user, "policy", None)
    return bool(policy and policy.can_view_audit)


def adopt(obj: Model, saved: Model) -> None:
    """Make the admin's unsaved form instance the row a service saved, so that the admin's
    messages, log entry and redirect point at it."""
    for field in saved._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db


class BackOfficeAdmin(ModelAdmin):
    allow_add = False
    allow_change = False
    # Service error keys that name a different form field (service key -> form field).
    service_field_map: dict[str, str] = {}

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_back_office_user(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_back_office_user(request.user)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.allow_add and is_back_office_user(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.allow_change and is_back_office_user(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """When the service refuses the write, its transaction (and the admin's) is rolled
        back and the same form is shown again with the service's messages on the fields."""
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            request._service_error = exc  # type: ignore[attr-defined]
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        exc: DomainError | None = getattr(request, "_service_error", None)
        if exc is None:
            return form_class
        field_map = self.service_field_map

        class WithServiceErrors(form_class):  # type: ignore[misc, valid-type]
            def clean(self) -> Any:
                cleaned = super().clean()
                errors = exc.errors or {"__all__": [str(exc.message)]}
                for key, messages in errors.items():
                    field = field_map.get(key, key)
                    target = field if field in self.fields else None
                    for message in messages:
                        self.add_error(target, message)
                return cleaned

        return WithServiceErrors


class AuditReasonInline(StackedInline):
    model = AuditReason
    can_delete = False
    extra = 0
    fields = ["text"]
    readonly_fields = ["text"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(BackOfficeAdmin):
    list_display = ["at", "actor", "verb", "target_type", "target_id", "reason_text", "ip"]
    list_filter = ["verb", "target_type"]
    search_fields = ["verb", "target_type", "target_id", "actor__username"]
    date_hierarchy = "at"
    list_select_related = ["actor", "reason"]
    readonly_fields = ["at", "actor", "verb", "target_type", "target_id", "data", "ip"]
    fields = readonly_fields
    inlines = [AuditReasonInline]
    show_full_result_count = False

    @display(description=_("理由"))
    def reason_text(self, obj: AuditEvent) -> str:
        reason = getattr(obj, "reason", None)
        return reason.text if reason is not None else ""


@admin.register(AuditReason)
class AuditReasonAdmin(BackOfficeAdmin):
    list_display = ["event", "text"]
    list_select_related = ["event"]
    search_fields = ["event__target_id", "event__verb"]
    readonly_fields = ["event", "text"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditReason]:
        return super().get_queryset(request).order_by("-event__at")
