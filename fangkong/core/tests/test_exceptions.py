"""One error vocabulary: {"code", "message", "errors"} with an HTTP status per class."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from fangkong.core.exceptions import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    ValidationFailed,
    validation_error_to_dict,
)


def test_validation_failed_names_every_field():
    exc = ValidationFailed({"name": ["姓名不能为空"], "phone": ["手机号应为11位"]})
    assert exc.status == 400
    body = exc.as_dict()
    assert body["code"] == "invalid"
    assert body["errors"] == {"name": ["姓名不能为空"], "phone": ["手机号应为11位"]}
    assert body["message"]


def test_each_error_class_has_its_status_and_code():
    assert (Conflict("重复").status, Conflict("重复").code) == (409, "conflict")
    assert (NotFound().status, NotFound().code) == (404, "not_found")
    assert (Forbidden().status, Forbidden().code) == (403, "forbidden")
    assert DomainError("x", code="people.merge_conflict").as_dict() == {
        "code": "people.merge_conflict",
        "message": "x",
        "errors": {},
    }


def test_missing_and_out_of_scope_share_one_message():
    assert NotFound().as_dict() == NotFound().as_dict()
    assert str(NotFound().message)


def test_django_validation_errors_become_field_lists():
    exc = ValidationError({"name": ["太长"], "phone": ["无效", "重复"]})
    assert validation_error_to_dict(exc) == {"name": ["太长"], "phone": ["无效", "重复"]}
    assert validation_error_to_dict(ValidationError("整体错误")) == {"__all__": ["整体错误"]}
