"""Confirm-or-release: the day-before reminder's link and SMS reply keywords, the release that
frees the place for the waitlist and tells the organizer, and the organizer's at-risk list."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from coordinator.attendance.models import Attendance, AttendanceStatus
from coordinator.auth.models import Role, User
from coordinator.db import transaction
from coordinator.events.models import Event, Signup, SignupStatus
from coordinator.notify.confirmations.links import CONFIRM_TEMPLATE, confirmation_token
from coordinator.notify.confirmations.models import PlaceAnswer, PlaceConfirmation, SmsReply
from coordinator.notify.models import Notification, NotificationStatus
from coordinator.people.models import Person
from coordinator.settings import Settings
from tests.conftest import RECEIPT_TOKEN
from tests.factories import auth_headers, create_station, create_user
from tests.world import World

pytestmark = pytest.mark.usefixtures("database_url")
Status = NotificationStatus
# Three days ahead at 10:00 in Kaili: the one-day reminder goes at 10:00 the day before, and the
# confirmation deadline (12 hours before the start) is 22:00 that evening.
STARTS_IN = timedelta(days=3)
ALIYUN_REPLIES = f"/api/v1/notify/replies/aliyun?token={RECEIPT_TOKEN}"
TENCENT_REPLIES = f"/api/v1/notify/replies/tencent?token={RECEIPT_TOKEN}"


async def _organizer(world: World) -> tuple[dict[str, str], Person]:
    """An organizer of the station whose account is linked to a person (their phone)."""
    person = await world.person(quiet_hours_start="00:00", quiet_hours_end="00:00")
    async with transaction(world.sessionmaker) as session:
        user = await create_user(session, world.clock, Role.organizer, [world.station], person_id=person.id)
    return auth_headers(world.app, user), person


async def _login_again(world: World) -> dict[str, str]:
    async with world.sessionmaker() as session:
        linked = select(User).where(User.role == Role.organizer, User.person_id.is_not(None))
        user = await session.scalar(linked)
        assert user is not None
    return auth_headers(world.app, user)


async def _signup(world: World, event: Event, person: Person) -> Signup:
    signup_id = await world.sign_up(event, person)
    async with world.sessionmaker() as session:
        signup = await session.get(Signup, signup_id)
    assert signup is not None
    return signup


async def _mark_sent(world: World, notification_id: int) -> None:
    """What the dispatcher does when the provider takes the SMS."""
    async with transaction(world.sessionmaker) as session:
        row = await session.get(Notification, notification_id)
        assert row is not None
        row.status, row.sent_at, row.provider_message_id = Status.sent, world.clock.now(), f"biz-{row.id}"


async def _day_before_sms(world: World, signup: Signup) -> Notification:
    rows = await world.notifications(signup_id=signup.id, offset="P1D")
    assert len(rows) == 1
    return rows[0]


async def _answer(world: World, signup_id: int) -> PlaceConfirmation | None:
    async with world.sessionmaker() as session:
        return await session.scalar(select(PlaceConfirmation).where(PlaceConfirmation.signup_id == signup_id))


async def _status(world: World, signup_id: int) -> SignupStatus:
    async with world.sessionmaker() as session:
        signup = await session.get(Signup, signup_id)
        assert signup is not None
        return signup.status


async def test_only_the_day_before_reminder_asks_to_confirm_with_a_link(
    world: World, settings: Settings
) -> None:
    event = await world.event(starts_in=STARTS_IN)  # reminders P1D and PT2H
    signup = await _signup(world, event, await world.person())
    await world.deliver_events()

    day_before, two_hours = await world.notifications(signup_id=signup.id)
    token = confirmation_token(settings, signup.id)
    assert day_before.offset == "P1D"
    assert day_before.payload["template_key"] == CONFIRM_TEMPLATE
    assert day_before.payload["url"] == f"{settings.public_base_url}/api/v1/confirmations/{token}"
    assert day_before.payload["params"]["link"] == day_before.payload["url"]
    assert "回复1确认" in day_before.payload["text"]
    assert two_hours.payload["template_key"] == "reminder"
    assert two_hours.payload["url"] is None


async def test_a_confirmed_person_leaves_the_at_risk_list_and_the_silent_one_is_on_it(
    world: World, client: httpx.AsyncClient, settings: Settings
) -> None:
    headers, _ = await _organizer(world)
    event = await world.event(starts_in=STARTS_IN)
    answering, silent = await world.person(), await world.person()
    answered = await _signup(world, event, answering)
    await _signup(world, event, silent)
    async with transaction(world.sessionmaker) as session:  # the silent one missed two activities
        for _ in range(2):
            past = await world.event(starts_in=-timedelta(days=30))
            session.add(
                Attendance(
                    event_id=past.id,
                    person_id=silent.id,
                    station_id=world.station.id,
                    status=AttendanceStatus.no_show,
                    created_at=world.clock.now(),
                    updated_at=world.clock.now(),
                )
            )

    token = confirmation_token(settings, answered.id)
    shown = await client.get(f"/api/v1/confirmations/{token}")
    assert shown.status_code == 200
    assert shown.json()["answer"] is None
    assert shown.json()["can_answer"] is True
    confirmed = await client.post(f"/api/v1/confirmations/{token}", json={"answer": "confirm"})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["answer"] == "confirmed"

    early = (await client.get(f"/api/v1/events/{event.id}/at-risk", headers=headers)).json()
    assert early["deadline_passed"] is False
    assert early["items"] == []
    assert (early["confirmed"], early["awaiting"]) == (1, 1)

    world.clock.set(event.starts_at - timedelta(hours=settings.confirm_deadline_hours))
    headers = await _login_again(world)  # a staff token lasts hours, not days
    late = (await client.get(f"/api/v1/events/{event.id}/at-risk", headers=headers)).json()
    assert late["deadline_passed"] is True
    assert [(p["person_id"], p["no_shows"]) for p in late["items"]] == [(silent.id, 2)]
    assert late["items"][0]["phone"] == silent.phone


async def test_release_frees_the_place_promotes_the_waitlist_and_tells_the_organizer(
    world: World, client: httpx.AsyncClient, settings: Settings
) -> None:
    headers, organizer = await _organizer(world)
    async with world.sessionmaker() as session:
        creator = await session.scalar(select(User).where(User.person_id == organizer.id))
        assert creator is not None
    event = await world.event(
        starts_in=STARTS_IN, roles=[{"name": "探访志愿者", "count": 1}], created_by=creator.id
    )
    leaving, waiting = await world.person(), await world.person()
    place = await _signup(world, event, leaving)
    queued = await _signup(world, event, waiting)
    assert queued.status == SignupStatus.waitlisted
    await world.deliver_events()

    token = confirmation_token(settings, place.id)
    released = await client.post(f"/api/v1/confirmations/{token}", json={"answer": "release"})
    assert released.status_code == 200, released.text
    assert released.json()["answer"] == "released"
    assert released.json()["signup_status"] == "cancelled"
    assert await _status(world, place.id) == SignupStatus.cancelled
    assert await _status(world, queued.id) == SignupStatus.confirmed

    # Written in the release's own transaction: the organizer hears of it before any relay runs.
    told = await world.notifications(person_id=organizer.id)
    assert [(n.reason, n.status, n.due_at) for n in told] == [("released", Status.pending, world.clock.now())]
    assert leaving.name in told[0].payload["text"]
    assert "候补志愿者已自动递补" in told[0].payload["text"]

    await world.deliver_events()
    assert [n.status for n in await world.notifications(signup_id=place.id)] == [Status.cancelled] * 2
    assert [n.reason for n in await world.notifications(signup_id=queued.id, offset="")] == ["promoted"]
    assert (await world.notifications(person_id=organizer.id))[0].status == Status.pending

    report = (await client.get(f"/api/v1/events/{event.id}/at-risk", headers=headers)).json()
    assert [(r["person_id"], r["via"]) for r in report["released"]] == [(leaving.id, "link")]


async def test_a_repeated_release_changes_nothing_and_confirming_after_it_is_refused(
    world: World, client: httpx.AsyncClient, settings: Settings
) -> None:
    await _organizer(world)
    event = await world.event(starts_in=STARTS_IN)
    place = await _signup(world, event, await world.person())
    url = f"/api/v1/confirmations/{confirmation_token(settings, place.id)}"

    first = await client.post(url, json={"answer": "release"})
    again = await client.post(url, json={"answer": "release"})
    confirm = await client.post(url, json={"answer": "confirm"})

    assert first.status_code == again.status_code == 200
    assert first.json()["answered_at"] == again.json()["answered_at"]
    assert confirm.status_code == 409
    assert confirm.json()["error"]["code"] == "place_released"
    assert len(await world.notifications(reason="released")) == 1


async def test_a_confirmed_person_may_still_release(
    world: World, client: httpx.AsyncClient, settings: Settings
) -> None:
    event = await world.event(starts_in=STARTS_IN)
    place = await _signup(world, event, await world.person())
    url = f"/api/v1/confirmations/{confirmation_token(settings, place.id)}"
    assert (await client.post(url, json={"answer": "confirm"})).status_code == 200
    assert (await client.post(url, json={"answer": "release"})).json()["answer"] == "released"
    assert await _status(world, place.id) == SignupStatus.cancelled


@pytest.mark.parametrize(
    ("token", "code"),
    [("12-AAAAAAAAAAAAAAAA", "invalid_confirmation"), ("not-a-token", "invalid_confirmation")],
)
async def test_a_forged_link_is_refused_and_changes_nothing(
    world: World, client: httpx.AsyncClient, token: str, code: str
) -> None:
    event = await world.event(starts_in=STARTS_IN)
    place = await _signup(world, event, await world.person())
    forged = token.replace("12-", f"{place.id}-")
    answer = await client.post(f"/api/v1/confirmations/{forged}", json={"answer": "release"})
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == code
    assert await _status(world, place.id) == SignupStatus.confirmed
    assert await _answer(world, place.id) is None


async def test_a_bad_answer_is_refused(world: World, client: httpx.AsyncClient, settings: Settings) -> None:
    event = await world.event(starts_in=STARTS_IN)
    place = await _signup(world, event, await world.person())
    url = f"/api/v1/confirmations/{confirmation_token(settings, place.id)}"
    answer = await client.post(url, json={"answer": "maybe"})
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "answer"
    assert await _answer(world, place.id) is None


async def test_once_the_event_has_started_the_link_only_shows(
    world: World, client: httpx.AsyncClient, settings: Settings
) -> None:
    event = await world.event(starts_in=STARTS_IN)
    place = await _signup(world, event, await world.person())
    world.clock.set(event.starts_at + timedelta(minutes=1))
    url = f"/api/v1/confirmations/{confirmation_token(settings, place.id)}"
    assert (await client.get(url)).json()["can_answer"] is False
    answer = await client.post(url, json={"answer": "release"})
    assert answer.status_code == 410
    assert answer.json()["error"]["code"] == "confirmation_closed"
    assert await _status(world, place.id) == SignupStatus.confirmed


async def test_a_browser_gets_a_page_and_its_form_releases(
    world: World, client: httpx.AsyncClient, settings: Settings
) -> None:
    event = await world.event(starts_in=STARTS_IN, location="营盘坡村委会")
    place = await _signup(world, event, await world.person())
    url = f"/api/v1/confirmations/{confirmation_token(settings, place.id)}"
    page = await client.get(url, headers={"Accept": "text/html,application/xhtml+xml"})
    assert page.headers["content-type"].startswith("text/html")
    assert "营盘坡村委会" in page.text
    assert 'value="release"' in page.text

    submitted = await client.post(url, data={"answer": "release"}, headers={"Accept": "text/html"})
    assert submitted.status_code == 200
    assert "您已释放名额" in submitted.text
    assert await _status(world, place.id) == SignupStatus.cancelled

    refused = await client.post(url, data={"answer": "confirm"}, headers={"Accept": "text/html"})
    assert refused.status_code == 409
    assert "名额已释放" in refused.text
    answer = await _answer(world, place.id)
    assert answer is not None
    assert answer.answer == PlaceAnswer.released


async def test_confirm_and_release_at_once_end_released_with_the_place_freed_once(
    world: World, client: httpx.AsyncClient, settings: Settings
) -> None:
    event = await world.event(starts_in=STARTS_IN, roles=[{"name": "志愿者", "count": 1}])
    place = await _signup(world, event, await world.person())
    waiting = await _signup(world, event, await world.person())
    url = f"/api/v1/confirmations/{confirmation_token(settings, place.id)}"

    answers = await asyncio.gather(
        client.post(url, json={"answer": "confirm"}),
        client.post(url, json={"answer": "release"}),
        client.post(url, json={"answer": "release"}),
    )

    # Serialized on the role's lock: confirm first (then released), or release first (then the
    # confirmation is refused); either way the place is released once.
    assert sorted(a.status_code for a in answers) in ([200, 200, 200], [200, 200, 409])
    answer = await _answer(world, place.id)
    assert answer is not None
    assert answer.answer == PlaceAnswer.released
    assert await _status(world, waiting.id) == SignupStatus.confirmed
    async with world.sessionmaker() as session:
        loaded = await session.get(Event, event.id)
        assert loaded is not None
        live = await session.scalars(select(Signup).where(Signup.event_id == event.id))
        assert sorted(s.status for s in live) == [SignupStatus.cancelled, SignupStatus.confirmed]


async def _reminded_by_sms(world: World, person: Person, *, starts_in: timedelta) -> Signup:
    event = await world.event(starts_in=starts_in)
    signup = await _signup(world, event, person)
    await world.deliver_events()
    await _mark_sent(world, (await _day_before_sms(world, signup)).id)
    return signup


def _aliyun_reply(person: Person, content: str, sequence_id: int) -> list[dict[str, object]]:
    return [
        {
            "phone_number": person.phone.removeprefix("+86"),
            "send_time": "2026-12-01 10:03:00",
            "content": content,
            "sign_name": "凯里社工站",
            "dest_code": "1234",
            "sequence_id": sequence_id,
        }
    ]


async def test_an_sms_reply_0_releases_the_latest_request_and_its_repeat_nothing_more(
    world: World, client: httpx.AsyncClient
) -> None:
    person = await world.person()
    earlier = await _reminded_by_sms(world, person, starts_in=STARTS_IN + timedelta(days=1))
    world.clock.set(world.clock.now() + timedelta(minutes=5))
    latest = await _reminded_by_sms(world, person, starts_in=STARTS_IN)

    first = await client.post(ALIYUN_REPLIES, json=_aliyun_reply(person, "０", 7001))
    repeat = await client.post(ALIYUN_REPLIES, json=_aliyun_reply(person, "０", 7001))

    assert first.json() == repeat.json() == {"code": 0, "msg": "接收成功"}
    assert await _status(world, latest.id) == SignupStatus.cancelled
    assert await _status(world, earlier.id) == SignupStatus.confirmed
    answer = await _answer(world, latest.id)
    assert answer is not None
    assert (answer.answer, answer.via) == (PlaceAnswer.released, "sms_reply")
    async with world.sessionmaker() as session:
        replies = list(await session.scalars(select(SmsReply)))
    assert [(r.outcome, r.signup_id) for r in replies] == [("released", latest.id)]


@pytest.mark.parametrize(
    ("configured", "query", "status"),
    [
        ("", "", 404),  # no token configured: the callbacks do not exist
        ("", "?token=", 404),
        (RECEIPT_TOKEN, "", 401),
        (RECEIPT_TOKEN, "?token=guess", 401),
        (RECEIPT_TOKEN, "?token=令牌", 401),  # any text, not only ASCII, is compared
    ],
    ids=["unset", "unset-empty", "missing", "wrong", "non-ascii"],
)
async def test_a_forged_reply_0_releases_nothing(
    world: World, client: httpx.AsyncClient, settings: Settings, configured: str, query: str, status: int
) -> None:
    world.app.state.settings = settings.model_copy(update={"notify_receipt_token": SecretStr(configured)})
    person = await world.person()
    signup = await _reminded_by_sms(world, person, starts_in=STARTS_IN)

    forged = await client.post(f"/api/v1/notify/replies/aliyun{query}", json=_aliyun_reply(person, "0", 7002))
    tencent = await client.post(
        f"/api/v1/notify/replies/tencent{query}",
        json={"mobile": person.phone.removeprefix("+86"), "nationcode": "86", "text": "0", "time": 3},
    )

    assert (forged.status_code, tencent.status_code) == (status, status)
    expected = {404: "callbacks_disabled", 401: "invalid_receipt_token"}[status]
    assert forged.json()["error"]["code"] == tencent.json()["error"]["code"] == expected
    assert await _status(world, signup.id) == SignupStatus.confirmed
    assert await _answer(world, signup.id) is None
    assert await world.count(SmsReply) == 0


async def test_a_tencent_reply_1_confirms_and_other_words_change_nothing(
    world: World, client: httpx.AsyncClient
) -> None:
    person = await world.person()
    signup = await _reminded_by_sms(world, person, starts_in=STARTS_IN)
    body = {
        "extend": "",
        "mobile": person.phone.removeprefix("+86"),
        "nationcode": "86",
        "sign": "凯里社工站",
    }

    chatter = await client.post(TENCENT_REPLIES, json={**body, "text": "好的谢谢", "time": 1})
    assert chatter.json() == {"result": 0, "errmsg": "OK"}
    assert await _answer(world, signup.id) is None

    yes = await client.post(TENCENT_REPLIES, json={**body, "text": " 1 ", "time": 2})
    assert yes.json()["result"] == 0
    answer = await _answer(world, signup.id)
    assert answer is not None
    assert answer.answer == PlaceAnswer.confirmed
    assert await _status(world, signup.id) == SignupStatus.confirmed


async def test_a_reply_from_a_phone_with_nothing_to_answer_is_kept_and_harmless(
    world: World, client: httpx.AsyncClient
) -> None:
    person = await world.person()
    event = await world.event(starts_in=STARTS_IN)
    signup = await _signup(world, event, person)  # reminded, but nothing sent by SMS yet
    await world.deliver_events()
    answer = await client.post(ALIYUN_REPLIES, json=_aliyun_reply(person, "0", 42))
    assert answer.status_code == 200
    assert await _status(world, signup.id) == SignupStatus.confirmed
    async with world.sessionmaker() as session:
        assert [r.outcome for r in await session.scalars(select(SmsReply))] == ["no_pending"]


async def test_the_at_risk_list_is_for_staff_of_the_station(world: World, client: httpx.AsyncClient) -> None:
    event = await world.event(starts_in=STARTS_IN)
    async with transaction(world.sessionmaker) as session:
        other = await create_station(session, world.clock)
        stranger = await create_user(session, world.clock, Role.organizer, [other])
    answer = await client.get(f"/api/v1/events/{event.id}/at-risk", headers=auth_headers(world.app, stranger))
    assert answer.status_code == 404
    assert (await client.get(f"/api/v1/events/{event.id}/at-risk")).status_code == 401
