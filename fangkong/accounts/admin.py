"""Back office for accounts, grid workers, the 四包抓 holders and API tokens.

Writes go through accounts.services; API tokens are read-only here (revoke is an action that
calls token_revoke). Lists show phones masked.
"""

from __future__ import annotations

import contextvars
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.decorators import action, display
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from fangkong.core.admin import BackOfficeAdmin, adopt
from fangkong.core.masking import mask_phone
from fangkong.core.scope import scope_by_division

from .models import ApiToken, GridWorker, Responsibility, User
from .selectors import access_user_by_id, user_list
from .services import (
    grid_worker_assign,
    grid_worker_create,
    responsibility_assign,
    token_revoke,
    user_create,
    user_set_password,
    user_update,
)

# The admin's password form is built by Django without the request; the acting user reaches
# its save() through this per-request variable.
_acting_user: contextvars.ContextVar[Any] = contextvars.ContextVar("admin_acting_user")

# Roles and jurisdictions are Fangkong's permissions; Django's groups are not used.
admin.site.unregister(Group)

USER_FIELDS = ("display_name", "phone", "role", "jurisdiction", "is_active", "is_staff")


class UserAddForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "display_name", "phone", "role", "jurisdiction")


class UserEditForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = ("username", "password", *USER_FIELDS)


class ServicePasswordForm(AdminPasswordChangeForm):
    def save(self, commit: bool = True) -> User:
        password = (
            self.cleaned_data["password1"] if self.cleaned_data["set_usable_password"] else None
        )
        return user_set_password(actor=_acting_user.get(), user=self.user, password=password)


@admin.register(User)
class UserAdmin(BackOfficeAdmin, DjangoUserAdmin):
    allow_add = True
    allow_change = True
    form = UserEditForm
    add_form = UserAddForm
    change_password_form = ServicePasswordForm
    service_field_map = {"jurisdiction_code": "jurisdiction"}
    list_display = ["username", "display_name", "role", "jurisdiction", "masked_phone", "is_active"]
    list_filter = ["role", "is_active", "is_staff"]
    search_fields = ["username", "display_name"]
    list_select_related = ["jurisdiction"]
    autocomplete_fields = ["jurisdiction"]
    ordering = ["username"]
    filter_horizontal: tuple[str, ...] = ()
    readonly_fields = ["username", "is_superuser", "last_login", "date_joined"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (gettext_lazy("身份与范围"), {"fields": ("display_name", "phone", "role", "jurisdiction")}),
        (gettext_lazy("状态"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (gettext_lazy("时间"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "display_name",
                    "phone",
                    "role",
                    "jurisdiction",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )

    @display(description=gettext_lazy("手机号"))
    def masked_phone(self, obj: User) -> str:
        return mask_phone(obj.phone)

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return user_list(viewer=request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Only a superuser may change a superuser (or set their password)."""
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> list[str]:
        return [] if obj is None else list(self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        if change:
            current = access_user_by_id(viewer=request.user, user_id=obj.pk)
            changes = {
                ("jurisdiction_code" if name == "jurisdiction" else name): (
                    obj.jurisdiction_id if name == "jurisdiction" else getattr(obj, name)
                )
                for name in form.changed_data
                if name in USER_FIELDS
            }
            saved = user_update(actor=request.user, user=current, changes=changes)
        else:
            usable = form.cleaned_data.get("set_usable_password", True)
            saved = user_create(
                actor=request.user,
                username=obj.username,
                password=form.cleaned_data.get("password1") if usable else None,
                role=obj.role,
                jurisdiction_code=obj.jurisdiction_id,
                display_name=obj.display_name,
                phone=obj.phone,
            )
        adopt(obj, saved)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Roles and jurisdictions are Fangkong's permissions: no Django groups to save."""

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> Any:
        if not self.has_change_permission(request):
            return super().user_change_password(request, id, form_url)
        token = _acting_user.set(request.user)
        try:
            return super().user_change_password(request, id, form_url)
        finally:
            _acting_user.reset(token)


@admin.register(GridWorker)
class GridWorkerAdmin(BackOfficeAdmin):
    allow_add = True
    allow_change = True
    service_field_map = {"grid_codes": "grids"}
    list_display = ["id", "name", "masked_phone", "user", "grid_list", "active"]
    list_filter = ["active"]
    search_fields = ["name", "user__username"]
    list_select_related = ["user"]
    autocomplete_fields = ["user", "grids"]

    @display(description=gettext_lazy("手机号"))
    def masked_phone(self, obj: GridWorker) -> str:
        return mask_phone(obj.phone)

    @display(description=gettext_lazy("负责网格"))
    def grid_list(self, obj: GridWorker) -> str:
        return "、".join(grid.name for grid in obj.grids.all()) or "—"

    def get_queryset(self, request: HttpRequest) -> QuerySet[GridWorker]:
        qs = super().get_queryset(request).prefetch_related("grids")
        return scope_by_division(qs, viewer=request.user, field="grids__code").distinct()

    def get_fields(self, request: HttpRequest, obj: GridWorker | None = None) -> list[str]:
        if obj is None:
            return ["name", "phone", "user", "grids"]
        return ["name", "masked_phone", "user", "active", "grids", "created_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: GridWorker | None = None) -> list[str]:
        if obj is None:
            return []
        return ["name", "masked_phone", "user", "active", "created_at"]

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "grids":
            field.queryset = field.queryset.filter(level=3)
            field.help_text = _("只能指派到小网格（第3级）。")
        return field

    def save_model(self, request: HttpRequest, obj: GridWorker, form: Any, change: bool) -> None:
        codes = [grid.code for grid in form.cleaned_data.get("grids", [])]
        if change:
            saved = obj
            if "grids" in form.changed_data:
                saved = grid_worker_assign(actor=request.user, worker=obj, grid_codes=codes)
        else:
            saved = grid_worker_create(
                actor=request.user,
                name=obj.name,
                phone=obj.phone,
                grid_codes=codes,
                user=obj.user,
            )
        adopt(obj, saved)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """The grids were set by the service."""


@admin.register(Responsibility)
class ResponsibilityAdmin(BackOfficeAdmin):
    allow_add = True
    service_field_map = {"division_code": "division"}
    list_display = ["division", "tier", "name", "title", "masked_phone", "user"]
    list_filter = ["tier"]
    search_fields = ["division__code", "division__name", "name", "title"]
    list_select_related = ["division", "user"]
    autocomplete_fields = ["division", "user"]

    @display(description=gettext_lazy("手机号"))
    def masked_phone(self, obj: Responsibility) -> str:
        return mask_phone(obj.phone)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Responsibility]:
        qs = super().get_queryset(request)
        return scope_by_division(qs, viewer=request.user, field="division_id")

    def get_fields(self, request: HttpRequest, obj: Responsibility | None = None) -> list[str]:
        if obj is None:
            return ["division", "tier", "name", "title", "phone", "user"]
        return ["division", "tier", "name", "title", "masked_phone", "user", "created_at"]

    def get_readonly_fields(
        self, request: HttpRequest, obj: Responsibility | None = None
    ) -> list[str]:
        return [] if obj is None else self.get_fields(request, obj)

    def save_model(
        self, request: HttpRequest, obj: Responsibility, form: Any, change: bool
    ) -> None:
        saved = responsibility_assign(
            actor=request.user,
            division_code=obj.division_id,
            tier=obj.tier,
            name=obj.name,
            title=obj.title,
            phone=obj.phone,
            user=obj.user,
        )
        adopt(obj, saved)


@admin.register(ApiToken)
class ApiTokenAdmin(BackOfficeAdmin):
    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["prefix", "name", "user__username"]
    list_select_related = ["user"]
    fields = ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke_tokens"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiToken]:
        qs = super().get_queryset(request)
        return scope_by_division(qs, viewer=request.user, field="user__jurisdiction_id")

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    @action(description=gettext_lazy("吊销所选令牌"), permissions=["revoke"])
    def revoke_tokens(
        self, request: HttpRequest, queryset: QuerySet[ApiToken]
    ) -> HttpResponse | None:
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True):
            token_revoke(actor=request.user, token=token)
            revoked += 1
        messages.success(request, _("已吊销 %(n)s 个令牌。") % {"n": revoked})
        return None
