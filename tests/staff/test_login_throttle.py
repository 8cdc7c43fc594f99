"""Staff sign-in: throttled per address and per username; weak passwords refused."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from staff.login_throttle import FAILURES_PER_IP, FAILURES_PER_USERNAME

pytestmark = pytest.mark.django_db
LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def staff_user():
    return get_user_model().objects.create_superuser("editor", "e@example.org", PASSWORD)


def _try(client, username: str, password: str, ip: str) -> int:
    data = {"username": username, "password": password, "next": "/admin/"}
    return client.post(LOGIN, data, REMOTE_ADDR=ip).status_code


def test_one_username_is_locked_after_its_failures_even_with_the_right_password(client, staff_user):
    # given wrong passwords for one account, each from a different address
    failures = [
        _try(client, "editor", f"guess-{n}", f"10.0.0.{n}") for n in range(FAILURES_PER_USERNAME)
    ]
    assert failures == [200] * FAILURES_PER_USERNAME  # the form, saying the password is wrong

    # when the right password comes next, from yet another address
    answer = _try(client, "Editor ", PASSWORD, "10.0.1.1")

    # then it is refused, and nobody is signed in
    assert answer == 429
    assert "_auth_user_id" not in client.session


def test_one_address_is_locked_after_its_failures_across_usernames(client, staff_user):
    # given one address guessing many accounts
    for n in range(FAILURES_PER_IP):
        assert _try(client, f"user{n}", "guess", "203.0.113.9") == 200

    # then it may not try the real one, while another address still signs in
    assert _try(client, "editor", PASSWORD, "203.0.113.9") == 429
    assert _try(client, "editor", PASSWORD, "198.51.100.1") == 302
    assert client.session["_auth_user_id"] == str(staff_user.pk)


def test_a_few_failures_do_not_lock_anyone_out(client, staff_user):
    for n in range(FAILURES_PER_USERNAME - 1):
        _try(client, "editor", f"guess-{n}", "10.0.0.1")
    assert _try(client, "editor", PASSWORD, "10.0.0.1") == 302


@pytest.mark.parametrize("weak", ["1", "password", "12345678901234", "editor2024"])
def test_weak_staff_passwords_are_refused(weak):
    with pytest.raises(ValidationError):
        validate_password(weak, user=get_user_model()(username="editor2024"))
    form = AdminUserCreationForm(
        {"username": "editor2024", "password1": weak, "password2": weak, "usable_password": "true"}
    )
    assert not form.is_valid()
    assert "password2" in form.errors


def test_a_strong_staff_password_is_accepted():
    validate_password("a long and unusual passphrase, 2026")
