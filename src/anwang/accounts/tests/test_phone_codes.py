"""Codes texted to a mobile number: sign-up with a proved number and password reset by code,
against a local SMS gateway (tests/http_peer.py). Nothing here reaches the internet."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from conftest import PASSWORD, World, make_user
from django.test import Client
from django.utils import timezone, translation
from tests.http_peer import HttpPeer, Reply, http_peer, template_gateway

from anwang.accounts import services
from anwang.accounts.choices import PhoneCodePurpose
from anwang.accounts.models import PhoneCode, User
from anwang.audit.models import AuditEvent
from anwang.core.crypto import blind_index
from anwang.core.errors import ServiceError, ThrottledError
from anwang.notifications.models import ChannelConfig, NotificationPreference
from anwang.notifications.services import preference_set

__all__ = ["http_peer"]  # the fixture, imported to be used

pytestmark = pytest.mark.django_db

SIGNUP = "/accounts/signup/"
SIGNUP_CODE = "/accounts/signup/code/"
RESET = "/accounts/password/reset/"
RESET_SMS = "/accounts/password/reset/sms/"
RESET_SMS_CODE = "/accounts/password/reset/sms/code/"
NUMBER = "13800138000"
HTMX = {"HX-Request": "true"}
SIGN_UP = PhoneCodePurpose.SIGN_UP
RESET_PURPOSE = PhoneCodePurpose.PASSWORD_RESET
NEW_PASSWORD = "Brand-New-Pass-51"


@pytest.fixture(autouse=True)
def _english(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def gateway(http_peer: HttpPeer) -> HttpPeer:
    """The platform's SMS gateway with templates for both kinds of code."""
    http_peer.route("/sms", template_gateway("api-key"))
    ChannelConfig.objects.create(
        channel="sms",
        name="platform sms",
        settings={
            "url": http_peer.url("/sms"),
            "sign_name": "安网社区",
            "templates": {
                "default": "SMS_DEFAULT",
                "code.sign_up": "SMS_SIGNUP",
                "code.password_reset": "SMS_RESET",
            },
        },
        secret="api-key",
    )
    return http_peer


def texted(peer: HttpPeer, path: str = "/sms") -> list[dict[str, Any]]:
    """The bodies of the texts the gateway accepted on ``path``."""
    return [request.json() for request in peer.to(path)]


def last_code(peer: HttpPeer, path: str = "/sms") -> str:
    code = texted(peer, path)[-1]["params"]["code"]
    assert re.fullmatch(r"\d{6}", code)
    return str(code)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def signup_data(**extra: str) -> dict[str, str]:
    return {
        "username": "new_resident",
        "display_name": "王小明",
        "email": "xm@example.org",
        "password1": "Quiet-River-2024",
        "password2": "Quiet-River-2024",
        **extra,
    }


def text(response: Any) -> str:
    return str(response.content.decode())


# --- sign-up --------------------------------------------------------------------------------


def test_signup_without_a_gateway_asks_for_no_number(http_peer: HttpPeer) -> None:
    page = text(Client().get(SIGNUP))
    assert 'name="phone"' not in page
    assert 'data-testid="send-code"' not in page
    # A gateway without a code template cannot text codes either.
    ChannelConfig.objects.create(
        channel="sms", name="alerts only", settings={"url": http_peer.url("/sms")}
    )
    assert 'name="phone"' not in text(Client().get(SIGNUP))
    # Sign-up by user name, email and password stays as it was.
    response = Client().post(SIGNUP, signup_data(phone=NUMBER))
    assert response.status_code == 302
    assert not NotificationPreference.objects.filter(user__username="new_resident").exists()
    assert http_peer.requests == []


def test_signup_with_a_texted_code(gateway: HttpPeer) -> None:
    client = Client()
    page = text(client.get(SIGNUP))
    assert 'name="phone"' in page
    assert 'name="phone_code"' in page
    sent = client.post(SIGNUP_CODE, {"phone": "+86 138-0013-8000"}, headers=HTMX)
    assert sent.status_code == 200
    assert "We texted a code to 138****8000. It is valid for 10 minutes." in text(sent)
    [body] = texted(gateway)
    assert body["phone"] == NUMBER
    assert body["template_id"] == "SMS_SIGNUP"
    assert body["sign_name"] == "安网社区"
    assert set(body["params"]) == {"code"}
    code = last_code(gateway)
    row = PhoneCode.objects.get()
    assert row.sent
    assert row.purpose == SIGN_UP
    assert (row.phone_masked, row.phone_index) == ("138****8000", blind_index(NUMBER))
    # Neither the number nor the code is stored in clear.
    stored = " ".join(str(value) for value in PhoneCode.objects.values().get().values())
    assert NUMBER not in stored
    assert code not in stored

    response = client.post(SIGNUP, signup_data(phone=NUMBER, phone_code=f"{code[:3]} {code[3:]}"))
    assert response.status_code == 302
    user = User.objects.get(username="new_resident")
    preference = NotificationPreference.objects.get(user=user)
    assert preference.phone == NUMBER
    assert "sms" not in preference.channels  # only the number is saved
    row.refresh_from_db()
    assert row.used_at is not None
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"phone_code.send", "phone_code.use", "user.create"} <= actions
    # The code works once.
    again = Client().post(
        SIGNUP,
        signup_data(username="someone_else", email="se@example.org", phone=NUMBER, phone_code=code),
    )
    assert "This code has expired or was already used. Ask for a new one." in text(again)


def test_signup_needs_the_code_when_a_number_is_given(gateway: HttpPeer) -> None:
    response = Client().post(SIGNUP, signup_data(phone=NUMBER))
    assert response.status_code == 200
    assert "Enter the code we texted to this number." in text(response)
    bad_number = Client().post(SIGNUP, signup_data(phone="12345", phone_code="123456"))
    assert "Enter a mainland mobile number (11 digits)." in text(bad_number)
    never_sent = Client().post(SIGNUP, signup_data(phone=NUMBER, phone_code="123456"))
    assert "This code has expired or was already used. Ask for a new one." in text(never_sent)
    assert not User.objects.filter(username="new_resident").exists()


def test_signup_wrong_code_counts_and_keeps_what_was_typed(gateway: HttpPeer) -> None:
    client = Client()
    client.post(SIGNUP_CODE, {"phone": NUMBER}, headers=HTMX)
    code = last_code(gateway)
    response = client.post(SIGNUP, signup_data(phone=NUMBER, phone_code=wrong(code)))
    assert response.status_code == 200
    page = text(response)
    assert "That code is wrong. You have 4 more tries." in page
    assert 'value="王小明"' in page
    assert f'value="{NUMBER}"' in page
    assert PhoneCode.objects.get().attempts == 1
    assert not User.objects.filter(username="new_resident").exists()
    assert client.post(SIGNUP, signup_data(phone=NUMBER, phone_code=code)).status_code == 302


def test_signup_code_is_not_wasted_by_another_mistake(world: World, gateway: HttpPeer) -> None:
    client = Client()
    client.post(SIGNUP_CODE, {"phone": NUMBER}, headers=HTMX)
    code = last_code(gateway)
    taken = client.post(SIGNUP, signup_data(username="a_guard", phone=NUMBER, phone_code=code))
    assert "That user name is taken." in text(taken)
    assert PhoneCode.objects.get().used_at is None
    assert client.post(SIGNUP, signup_data(phone=NUMBER, phone_code=code)).status_code == 302


def test_signup_code_expires_after_ten_minutes(gateway: HttpPeer) -> None:
    services.phone_code_send(
        phone=NUMBER,
        purpose=SIGN_UP,
        client_address="10.0.0.1",
        now=timezone.now() - dt.timedelta(minutes=10, seconds=1),
    )
    code = last_code(gateway)
    response = Client().post(SIGNUP, signup_data(phone=NUMBER, phone_code=code))
    assert "This code has expired or was already used. Ask for a new one." in text(response)
    assert not User.objects.filter(username="new_resident").exists()


def test_five_wrong_codes_kill_the_code(gateway: HttpPeer) -> None:
    services.phone_code_send(phone=NUMBER, purpose=SIGN_UP, client_address="10.0.0.1")
    code = last_code(gateway)
    messages = []
    for _attempt in range(5):
        with pytest.raises(ServiceError) as caught:
            services.phone_code_check(phone=NUMBER, purpose=SIGN_UP, code=wrong(code))
        messages.append(str(caught.value.message))
    assert messages[:4] == [
        "That code is wrong. You have 4 more tries.",
        "That code is wrong. You have 3 more tries.",
        "That code is wrong. You have 2 more tries.",
        "That code is wrong. You have 1 more try.",
    ]
    assert messages[4] == "Too many wrong codes. Ask for a new one."
    # Dead: even the right code is refused now, and no more attempts are counted.
    response = Client().post(SIGNUP, signup_data(phone=NUMBER, phone_code=code))
    assert "Too many wrong codes. Ask for a new one." in text(response)
    assert PhoneCode.objects.get().attempts == 5
    # A code for another purpose is not this one.
    with pytest.raises(ServiceError, match="expired"):
        services.phone_code_check(phone=NUMBER, purpose=RESET_PURPOSE, code=code)


def test_sends_are_throttled_per_number_and_per_address(gateway: HttpPeer) -> None:
    start = timezone.now() - dt.timedelta(minutes=30)

    def send(number: str, address: str, minutes: float) -> PhoneCode:
        return services.phone_code_send(
            phone=number,
            purpose=SIGN_UP,
            client_address=address,
            now=start + dt.timedelta(minutes=minutes),
        )

    send(NUMBER, "10.0.0.1", 0)
    with pytest.raises(ThrottledError) as caught:
        send(NUMBER, "10.0.0.2", 0.5)
    assert str(caught.value.message) == (
        "A code was just sent to this number. Wait 30 seconds before asking for another."
    )
    for minute in (1.1, 2.2, 3.3, 4.4):  # five an hour for one number, whatever the address
        send(NUMBER, f"10.0.1.{int(minute)}", minute)
    with pytest.raises(ThrottledError, match="to this number in the last hour"):
        send(NUMBER, "10.0.2.1", 6)
    # Five an hour from one address, whatever the number.
    for index in range(4):
        send(f"1390013900{index}", "10.0.0.1", 7 + index)
    with pytest.raises(ThrottledError, match="from this network address"):
        send("13900139009", "10.0.0.1", 12)
    assert send("13900139009", "10.0.0.9", 12).sent
    assert len(texted(gateway)) == 10
    # On the page the refusal shows in place, with a 200 so that htmx swaps it in.
    refused = Client(REMOTE_ADDR="10.0.0.1").post(
        SIGNUP_CODE, {"phone": "13700137000"}, headers=HTMX
    )
    assert refused.status_code == 200
    assert "Too many codes were asked for from this network address." in text(refused)


def test_send_code_failures_show_in_place(http_peer: HttpPeer, gateway: HttpPeer) -> None:
    client = Client()
    bad = client.post(SIGNUP_CODE, {"phone": "1234"}, headers=HTMX)
    assert "Enter a mainland mobile number (11 digits)." in text(bad)
    assert 'class="message message-error"' in text(bad)
    http_peer.answer("/sms", Reply(200, {"code": "INVALID_MOBILE", "message": "bad number"}))
    failed = client.post(SIGNUP_CODE, {"phone": NUMBER}, headers=HTMX)
    assert (
        "The text message could not be sent. Check the number, or try again in a minute."
        in text(failed)
    )
    row = PhoneCode.objects.get()
    assert not row.sent
    assert row.code_digest == ""
    # Without htmx the endpoint sends nobody anything and goes back to the page.
    assert client.post(SIGNUP_CODE, {"phone": "13700137000"})["Location"] == SIGNUP


def test_send_code_without_javascript_keeps_the_page(gateway: HttpPeer) -> None:
    response = Client().post(
        SIGNUP, {**signup_data(phone=NUMBER), "password1": "", "send_code": "1"}
    )
    assert response.status_code == 200
    page = text(response)
    assert "We texted a code to 138****8000." in page
    assert 'value="new_resident"' in page
    assert f'value="{NUMBER}"' in page
    assert "This field is required." not in page
    assert len(texted(gateway)) == 1


# --- password reset -------------------------------------------------------------------------


def test_reset_page_offers_the_code_only_with_a_gateway(http_peer: HttpPeer) -> None:
    assert "reset-by-sms" not in text(Client().get(RESET))
    assert Client().get(RESET_SMS).status_code == 404
    http_peer.route("/sms", template_gateway("k"))
    ChannelConfig.objects.create(
        channel="sms",
        name="only codes",
        settings={"url": http_peer.url("/sms"), "templates": {"code": "SMS_CODE"}},
    )
    page = text(Client().get(RESET))
    assert "Reset with a code sent to my mobile" in page
    assert Client().get(RESET_SMS).status_code == 200


def test_reset_by_code_end_to_end(world: World, gateway: HttpPeer) -> None:
    guard = world.user("guard")
    preference_set(user=guard, phone="139 0013 9000")
    other_session = world.client_for("guard")
    assert other_session.get("/accounts/profile/").status_code == 200
    client = Client()
    asked = client.post(RESET_SMS, {"phone": "13900139000"})
    assert asked["Location"] == RESET_SMS_CODE
    page = client.get(RESET_SMS_CODE)
    assert "If an account uses 139****9000, we texted it a code." in text(page)
    assert 'value="13900139000"' in text(page)  # the number is filled in
    [body] = texted(gateway)
    assert (body["phone"], body["template_id"]) == ("13900139000", "SMS_RESET")
    code = last_code(gateway)

    weak = client.post(
        RESET_SMS_CODE,
        {"phone": "13900139000", "code": code, "new_password1": "12345", "new_password2": "12345"},
    )
    assert weak.status_code == 400
    assert "errorlist" in text(weak)
    differ = client.post(
        RESET_SMS_CODE,
        {
            "phone": "13900139000",
            "code": code,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD + "x",
        },
    )
    assert "The two passwords differ." in text(differ)
    data = {
        "phone": "13900139000",
        "code": code,
        "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
    }
    done = client.post(RESET_SMS_CODE, data)  # the refused password did not use up the code
    assert done["Location"] == "/accounts/password/reset/complete/"
    guard.refresh_from_db()
    assert guard.check_password(NEW_PASSWORD)
    # As with the emailed link: the person's other sessions end.
    assert other_session.get("/accounts/profile/").status_code == 302
    assert (
        Client()
        .post("/accounts/login/", {"username": "a_guard", "password": NEW_PASSWORD})
        .status_code
        == 302
    )
    assert AuditEvent.objects.filter(
        action="user.password_set", object_id=str(guard.pk), changes__via_reset=True
    ).exists()
    assert AuditEvent.objects.filter(action="phone_code.use", actor=guard).exists()
    # The code works once.
    again = client.post(
        RESET_SMS_CODE,
        {**data, "new_password1": "Another-Pass-77", "new_password2": "Another-Pass-77"},
    )
    assert "This code has expired or was already used. Ask for a new one." in text(again)


def test_reset_for_an_unknown_number_answers_the_same(world: World, gateway: HttpPeer) -> None:
    preference_set(user=world.user("guard"), phone="13900139000")
    inactive = make_user("gone", is_active=False)
    preference_set(user=inactive, phone="13700137000")
    answers = []
    for number in ("13900139000", "13600136000", "13700137000"):
        client = Client(REMOTE_ADDR=f"10.0.0.{number[2]}")
        asked = client.post(RESET_SMS, {"phone": number})
        page = text(client.get(asked["Location"]))
        masked = f"{number[:3]}****{number[-4:]}"
        message = re.search(r"If an account uses [^<]*", page)
        assert message is not None
        answers.append(
            (asked.status_code, asked["Location"], message.group(0).replace(masked, "N"))
        )
        refused = client.post(
            RESET_SMS_CODE,
            {
                "phone": number,
                "code": "000000" if number != "13900139000" else wrong(last_code(gateway)),
                "new_password1": NEW_PASSWORD,
                "new_password2": NEW_PASSWORD,
            },
        )
        assert "That code is wrong. You have 4 more tries." in text(refused)
    assert answers[0] == answers[1] == answers[2]
    assert [body["phone"] for body in texted(gateway)] == ["13900139000"]
    assert list(PhoneCode.objects.order_by("pk").values_list("sent", flat=True)) == [
        True,
        False,
        False,
    ]
    # The unknown number is throttled like a known one.
    with pytest.raises(ThrottledError):
        services.phone_code_send(
            phone="13600136000", purpose=RESET_PURPOSE, client_address="10.0.9.9"
        )


def test_reset_when_several_accounts_share_a_number(world: World, gateway: HttpPeer) -> None:
    for role in ("guard", "resident"):
        preference_set(user=world.user(role), phone=NUMBER)
    services.phone_code_send(phone=NUMBER, purpose=RESET_PURPOSE, client_address="10.0.0.1")
    code = last_code(gateway)
    data = {
        "phone": NUMBER,
        "code": code,
        "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
    }
    client = Client()
    ambiguous = client.post(RESET_SMS_CODE, data)
    assert "Several accounts use this number." in text(ambiguous)
    stranger = client.post(RESET_SMS_CODE, {**data, "username": "a_cleaner"})
    assert "No account with this user name uses this number." in text(stranger)
    chosen = client.post(RESET_SMS_CODE, {**data, "username": "A_Resident"})
    assert chosen.status_code == 302
    assert (
        world.user("resident")
        .__class__.objects.get(username="a_resident")
        .check_password(NEW_PASSWORD)
    )
    assert User.objects.get(username="a_guard").check_password(PASSWORD)


def test_reset_code_goes_through_the_accounts_community_gateway(
    world: World, gateway: HttpPeer
) -> None:
    gateway.route("/sms-a", template_gateway("key-a"))
    ChannelConfig.objects.create(
        community=world.a.community,
        channel="sms",
        name="翠苑 sms",
        settings={"url": gateway.url("/sms-a"), "templates": {"code": "SMS_A_CODE"}},
        secret="key-a",
    )
    preference_set(user=world.user("resident"), phone=NUMBER)
    services.phone_code_send(phone=NUMBER, purpose=RESET_PURPOSE, client_address="10.0.0.1")
    assert texted(gateway) == []
    assert texted(gateway, "/sms-a")[0]["template_id"] == "SMS_A_CODE"


def test_pages_render_in_chinese(world: World, gateway: HttpPeer, settings: Any) -> None:
    settings.LANGUAGE_CODE = "zh-hans"
    with translation.override("zh-hans"):
        for path in (SIGNUP, RESET, RESET_SMS, RESET_SMS_CODE):
            response = Client().get(path)
            assert response.status_code == 200, path
            assert 'lang="zh-hans"' in text(response) or "zh" in response["Content-Language"]
