"""Schedule expressions: AWS cron, five-field cron, rate(...), NOW, offsets and windows.

Fire times are checked by hand against a calendar: 2024-03-10 is a Sunday, 2024 a leap year.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest
from croniter import croniter
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from vigil.errors import ConfigError, VigilError
from vigil.schedule import (
    EPOCH,
    CronSchedule,
    OneTimeSchedule,
    RateSchedule,
    parse_offset,
    parse_schedule,
    window_for,
)

UTC = timezone.utc
T0 = datetime(2024, 3, 10, 1, 59, 30, tzinfo=UTC)  # a Sunday


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def fires(expression: str, start: datetime = T0, n: int = 3) -> list[datetime]:
    s = parse_schedule(expression)
    out: list[datetime] = []
    t: datetime | None = start
    for _ in range(n):
        t = s.next_after(t)
        if t is None:
            break
        out.append(t)
    return out


# --- accepted forms, hand-checked ----------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # the reference's SageMaker forms: hourly, daily, every N hours
        ("cron(0 * ? * * *)", [utc(2024, 3, 10, 2), utc(2024, 3, 10, 3), utc(2024, 3, 10, 4)]),
        ("cron(0 8 ? * * *)", [utc(2024, 3, 10, 8), utc(2024, 3, 11, 8), utc(2024, 3, 12, 8)]),
        ("cron(0 0/6 ? * * *)", [utc(2024, 3, 10, 6), utc(2024, 3, 10, 12), utc(2024, 3, 10, 18)]),
        ("cron(0 1/6 ? * * *)", [utc(2024, 3, 10, 7), utc(2024, 3, 10, 13), utc(2024, 3, 10, 19)]),
        # '?' may sit in either day field
        ("cron(30 9 * * ? *)", [utc(2024, 3, 10, 9, 30), utc(2024, 3, 11, 9, 30)]),
        # minutes cadence, lists and ranges with steps
        (
            "cron(*/15 * ? * * *)",
            [utc(2024, 3, 10, 2), utc(2024, 3, 10, 2, 15), utc(2024, 3, 10, 2, 30)],
        ),
        (
            "cron(0/20 9-17/4 ? * MON-FRI *)",
            [utc(2024, 3, 11, 9), utc(2024, 3, 11, 9, 20), utc(2024, 3, 11, 9, 40)],
        ),
        ("cron(5,35 2 ? * * *)", [utc(2024, 3, 10, 2, 5), utc(2024, 3, 10, 2, 35)]),
        # month names and a list of days of the month
        ("cron(0 0 1,15 JAN,JUL ? *)", [utc(2024, 7, 1), utc(2024, 7, 15), utc(2025, 1, 1)]),
        # standard five-field cron and nicknames
        ("*/5 * * * *", [utc(2024, 3, 10, 2), utc(2024, 3, 10, 2, 5), utc(2024, 3, 10, 2, 10)]),
        ("0 12 * * 1", [utc(2024, 3, 11, 12), utc(2024, 3, 18, 12), utc(2024, 3, 25, 12)]),
        ("@hourly", [utc(2024, 3, 10, 2), utc(2024, 3, 10, 3), utc(2024, 3, 10, 4)]),
        ("@daily", [utc(2024, 3, 11), utc(2024, 3, 12), utc(2024, 3, 13)]),
        # rates, anchored to the epoch
        ("rate(1 minute)", [utc(2024, 3, 10, 2), utc(2024, 3, 10, 2, 1), utc(2024, 3, 10, 2, 2)]),
        ("rate(5 minutes)", [utc(2024, 3, 10, 2), utc(2024, 3, 10, 2, 5)]),
        ("rate(2 hours)", [utc(2024, 3, 10, 2), utc(2024, 3, 10, 4), utc(2024, 3, 10, 6)]),
        ("rate(3 hours)", [utc(2024, 3, 10, 3), utc(2024, 3, 10, 6)]),
        ("rate(1 day)", [utc(2024, 3, 11), utc(2024, 3, 12)]),
        ("rate(1 hour)", [utc(2024, 3, 10, 2), utc(2024, 3, 10, 3)]),
    ],
)
def test_next_fire_times(expression: str, expected: list[datetime]):
    assert fires(expression, n=len(expected)) == expected


def test_results_are_aware_utc_and_naive_input_is_utc():
    s = parse_schedule("cron(0 * ? * * *)")
    naive = s.next_after(datetime(2024, 3, 10, 1, 59, 30))
    assert naive == utc(2024, 3, 10, 2)
    assert naive.tzinfo is UTC
    # 01:59:30 at UTC+05:00 is 20:59:30 UTC the day before
    plus5 = timezone(timedelta(hours=5))
    assert s.next_after(datetime(2024, 3, 10, 1, 59, 30, tzinfo=plus5)) == utc(2024, 3, 9, 21)


def test_next_after_is_strict():
    for expression in ("cron(0 * ? * * *)", "0 * * * *", "rate(1 hour)"):
        s = parse_schedule(expression)
        assert s.next_after(utc(2024, 3, 10, 2)) == utc(2024, 3, 10, 3)
        assert s.next_after(utc(2024, 3, 10, 2, 0, 0, 1)) == utc(2024, 3, 10, 3)
        assert s.previous_before(utc(2024, 3, 10, 2)) == utc(2024, 3, 10, 1)
        assert s.previous_before(utc(2024, 3, 10, 2, 0, 0, 1)) == utc(2024, 3, 10, 2)


# --- AWS day-of-week numbering --------------------------------------------------------------

WEEK = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


@pytest.mark.parametrize("aws_day", range(1, 8))
def test_aws_day_of_week_counts_from_sunday_as_1(aws_day: int):
    # Sunday 2024-03-10 is AWS day 1, Saturday 2024-03-16 is AWS day 7
    expected = utc(2024, 3, 9 + aws_day, 12)
    assert fires(f"cron(0 12 ? * {aws_day} *)", n=1) == [expected]
    assert fires(f"cron(0 12 ? * {WEEK[aws_day - 1]} *)", n=1) == [expected]
    assert expected.strftime("%a").upper() == WEEK[aws_day - 1]


@pytest.mark.parametrize("std_day", range(0, 8))
def test_standard_day_of_week_counts_from_sunday_as_0(std_day: int):
    # standard cron: 0 and 7 are Sunday, 1 is Monday
    expected = utc(2024, 3, 10 + std_day % 7, 12)
    assert fires(f"0 12 * * {std_day}", n=1) == [expected]


def test_same_digit_means_different_days_in_aws_and_standard_cron():
    aws = parse_schedule("cron(0 12 ? * 2 *)")
    std = parse_schedule("0 12 * * 2")
    assert aws.next_after(T0).strftime("%A") == "Monday"
    assert std.next_after(T0).strftime("%A") == "Tuesday"
    assert isinstance(aws, CronSchedule) and aws.aws and aws.croniter_expression == "0 12 * * 1 0 *"
    assert isinstance(std, CronSchedule) and not std.aws


def test_aws_day_of_week_ranges_and_steps_are_renumbered():
    # 2-6 is MON-FRI; 2/2 is MON, WED, FRI; */2 is SUN, TUE, THU, SAT (1, 3, 5, 7)
    start = utc(2024, 3, 9, 23)  # Saturday night
    weekdays = [t.strftime("%a") for t in fires("cron(0 12 ? * 2-6 *)", start, n=6)]
    assert weekdays == ["Mon", "Tue", "Wed", "Thu", "Fri", "Mon"]
    assert weekdays == [t.strftime("%a") for t in fires("cron(0 12 ? * MON-FRI *)", start, n=6)]
    assert [t.strftime("%a") for t in fires("cron(0 12 ? * 2/2 *)", start, n=4)] == [
        "Mon",
        "Wed",
        "Fri",
        "Mon",
    ]
    assert [t.strftime("%a") for t in fires("cron(0 12 ? * */2 *)", start, n=5)] == [
        "Sun",
        "Tue",
        "Thu",
        "Sat",
        "Sun",
    ]
    assert [t.strftime("%a") for t in fires("cron(0 12 ? * 1,7 *)", start, n=3)] == [
        "Sun",
        "Sat",
        "Sun",
    ]


# --- L, W, # --------------------------------------------------------------------------------


def test_last_day_of_month():
    assert fires("cron(0 12 L * ? *)", utc(2024, 1, 31, 13), n=4) == [
        utc(2024, 2, 29, 12),  # leap year
        utc(2024, 3, 31, 12),
        utc(2024, 4, 30, 12),
        utc(2024, 5, 31, 12),
    ]
    assert fires("cron(0 12 L 2 ? *)", utc(2024, 3, 1), n=2) == [
        utc(2025, 2, 28, 12),
        utc(2026, 2, 28, 12),
    ]


def test_last_weekday_of_month_and_l_alone_is_saturday():
    # the last Friday (AWS 6) of March, April and May 2024
    assert fires("cron(0 12 ? * 6L *)", n=3) == [
        utc(2024, 3, 29, 12),
        utc(2024, 4, 26, 12),
        utc(2024, 5, 31, 12),
    ]
    assert fires("cron(0 12 ? * FRIL *)", n=1) == [utc(2024, 3, 29, 12)]
    # 'L' alone in day-of-week is the last day of the week: Saturday
    assert fires("cron(0 12 ? * L *)", n=2) == [utc(2024, 3, 16, 12), utc(2024, 3, 23, 12)]


def test_nth_weekday():
    # the second Monday (AWS 2) of each month: 11 March, 8 April, 13 May 2024
    expected = [utc(2024, 3, 11, 12), utc(2024, 4, 8, 12), utc(2024, 5, 13, 12)]
    assert fires("cron(0 12 ? * 2#2 *)", n=3) == expected
    assert fires("cron(0 12 ? * MON#2 *)", n=3) == expected
    # the first Sunday (AWS 1): 7 April 2024 (10 March is the second)
    assert fires("cron(0 12 ? * 1#1 *)", n=1) == [utc(2024, 4, 7, 12)]


def test_nearest_weekday():
    # 15 March 2024 is a Friday; 15 June 2024 a Saturday (-> Friday 14); 15 Sep a Sunday (-> 16)
    got = fires("cron(0 12 15W * ? *)", n=7)
    assert got[0] == utc(2024, 3, 15, 12)
    assert utc(2024, 6, 14, 12) in got
    assert utc(2024, 9, 16, 12) in got


# --- year field -----------------------------------------------------------------------------


def test_year_field():
    assert fires("cron(0 12 1 JAN ? 2025)", n=3) == [utc(2025, 1, 1, 12)]
    assert fires("cron(0 0 1 1 ? 2026-2027)", n=3) == [utc(2026, 1, 1), utc(2027, 1, 1)]
    assert fires("cron(0 0 1 1 ? 2024/3)", n=2) == [utc(2027, 1, 1), utc(2030, 1, 1)]
    past = parse_schedule("cron(0 0 1 1 ? 2020-2022)")
    assert past.next_after(T0) is None
    assert past.previous_before(T0) == utc(2022, 1, 1)
    assert list(past.fires_between(utc(2019, 6, 1), T0)) == [
        utc(2020, 1, 1),
        utc(2021, 1, 1),
        utc(2022, 1, 1),
    ]
    assert fires("cron(0 12 31 12 ? 2099)", n=2) == [utc(2099, 12, 31, 12)]


# --- rate anchoring -------------------------------------------------------------------------


def test_rates_are_anchored_to_the_epoch():
    # 2024-03-10T00:00Z is minute 28,500,480 since the epoch, which is 1 mod 7: on that day
    # rate(7 minutes) fires at 00:06, 00:13, ..., 01:58, 02:05
    s = parse_schedule("rate(7 minutes)")
    assert s.next_after(T0) == utc(2024, 3, 10, 2, 5)
    assert s.previous_before(T0) == utc(2024, 3, 10, 1, 58)
    assert s.next_after(EPOCH) == utc(1970, 1, 1, 0, 7)
    # the epoch was a Thursday: rate(7 days) fires on Thursdays at midnight
    weekly = parse_schedule("rate(7 days)").next_after(T0)
    assert weekly == utc(2024, 3, 14)
    assert weekly.strftime("%A") == "Thursday"
    # the same answer whatever time the schedule is asked from: no drift from creation time
    for minute in range(0, 60, 7):
        t = utc(2024, 3, 10, 3, minute, 17)
        assert parse_schedule("rate(5 minutes)").next_after(t).minute % 5 == 0


def test_rate_type_and_period():
    s = parse_schedule("rate(15 minutes)")
    assert isinstance(s, RateSchedule)
    assert s.interval == timedelta(minutes=15)
    assert s.period(T0) == timedelta(minutes=15)
    assert not s.is_one_time


# --- one-minute cadence and fires_between ---------------------------------------------------


@pytest.mark.parametrize("expression", ["rate(1 minute)", "cron(* * ? * * *)", "* * * * *"])
def test_one_minute_cadence_over_a_day(expression: str):
    s = parse_schedule(expression)
    got = list(s.fires_between(utc(2024, 3, 10), utc(2024, 3, 11)))
    assert len(got) == 1440
    assert got[0] == utc(2024, 3, 10, 0, 1)  # start excluded
    assert got[-1] == utc(2024, 3, 11)  # end included
    assert all(b - a == timedelta(minutes=1) for a, b in itertools.pairwise(got))


@pytest.mark.parametrize(
    ("expression", "count"),
    [
        ("cron(0 * ? * * *)", 24),
        ("rate(1 hour)", 24),
        ("cron(0 0/4 ? * * *)", 6),
        ("*/5 * * * *", 288),
        ("rate(5 minutes)", 288),
        ("cron(0 9 ? * MON-FRI *)", 0),  # a Sunday
    ],
)
def test_fires_between_over_a_day(expression: str, count: int):
    got = list(parse_schedule(expression).fires_between(utc(2024, 3, 10), utc(2024, 3, 11)))
    assert len(got) == count


def test_fires_between_is_lazy():
    s = parse_schedule("rate(1 minute)")
    it = s.fires_between(EPOCH, utc(2099, 1, 1))
    assert list(itertools.islice(it, 3)) == [
        utc(1970, 1, 1, 0, 1),
        utc(1970, 1, 1, 0, 2),
        utc(1970, 1, 1, 0, 3),
    ]
    c = parse_schedule("cron(* * ? * * *)").fires_between(EPOCH, utc(2099, 1, 1))
    assert next(c) == utc(1970, 1, 1, 0, 1)


def test_fires_between_catches_up_missed_runs():
    # a server down from 01:10 to 04:30 owes the 02:00, 03:00 and 04:00 runs of an hourly cron
    s = parse_schedule("cron(0 * ? * * *)")
    owed = list(s.fires_between(utc(2024, 3, 10, 1, 10), utc(2024, 3, 10, 4, 30)))
    assert owed == [utc(2024, 3, 10, 2), utc(2024, 3, 10, 3), utc(2024, 3, 10, 4)]
    assert list(s.fires_between(utc(2024, 3, 10, 5), utc(2024, 3, 10, 4))) == []


# --- period ---------------------------------------------------------------------------------


def test_cron_period_is_the_gap_from_the_previous_fire_time():
    s = parse_schedule("cron(0 8,20 ? * * *)")
    assert s.period(utc(2024, 3, 10, 8)) == timedelta(hours=12)
    assert s.period(utc(2024, 3, 10, 20)) == timedelta(hours=12)
    assert s.period(utc(2024, 3, 10, 21)) == timedelta(hours=1)  # not a fire time
    weekly = parse_schedule("cron(0 0 ? * MON *)")
    assert weekly.period(utc(2024, 3, 11)) == timedelta(days=7)
    uneven = parse_schedule("cron(0 0,6,7 ? * * *)")
    assert uneven.period(utc(2024, 3, 10, 6)) == timedelta(hours=6)
    assert uneven.period(utc(2024, 3, 10, 7)) == timedelta(hours=1)
    assert uneven.period(utc(2024, 3, 11, 0)) == timedelta(hours=17)


def test_period_of_the_first_ever_run_uses_the_next_gap():
    s = parse_schedule("cron(0 0 1 1 ? 2025-2026)")
    assert s.period(utc(2025, 1, 1)) == timedelta(days=365)
    with pytest.raises(ConfigError, match="fires only once"):
        parse_schedule("cron(0 0 1 1 ? 2025)").period(utc(2025, 1, 1))


# --- NOW ------------------------------------------------------------------------------------


def test_now_is_one_time():
    s = parse_schedule("NOW")
    assert isinstance(s, OneTimeSchedule)
    assert s.is_one_time
    assert s.next_after(T0) is None  # unpinned: the caller starts the single run
    with pytest.raises(ConfigError, match="no period"):
        s.period(T0)
    pinned = parse_schedule("now", now=utc(2024, 3, 10, 2))
    assert pinned.next_after(T0) == utc(2024, 3, 10, 2)
    assert pinned.next_after(utc(2024, 3, 10, 2)) is None  # after its single run
    assert list(pinned.fires_between(T0, utc(2024, 3, 11))) == [utc(2024, 3, 10, 2)]
    assert not parse_schedule("rate(1 day)").is_one_time


# --- rejected expressions -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("cron(0 * * * * *)", "cron(0 * * * * *): AWS cron needs '?' in day-of-month or day-of-w"),
        ("cron(0 * ? * ? *)", "exactly one of them"),
        ("cron(0 * ? * *)", "AWS cron needs six fields"),
        ("cron(0 0 * * ? * *)", "found 7"),
        ("0 * ? * * *", "write it as cron(0 * ? * * *)"),
        ("cron(60 * ? * * *)", "minutes value 60 is outside 0-59"),
        ("cron(0 24 ? * * *)", "hours value 24 is outside 0-23"),
        ("cron(0 0 32 * ? *)", "day-of-month value 32 is outside 1-31"),
        ("cron(0 0 ? 13 * *)", "month value 13 is outside 1-12"),
        ("cron(0 0 ? * 0 *)", "day-of-week value 0 is outside 1-7"),
        ("cron(0 0 ? * 8 *)", "day-of-week value 8 is outside 1-7"),
        ("cron(0 0 ? * FOO *)", "'FOO' is not 1-7 or SUN-SAT"),
        ("cron(0 0 ? * 2#6 *)", "week number must be 1-5"),
        ("cron(0 0 ? * */0 *)", "step in '*/0' must be at least 1"),
        ("cron(? 0 ? * * *)", "'?' is only allowed in day-of-month or day-of-week"),
        ("cron(0 0 LW * ? *)", "'L' and 'W' stand alone"),
        ("cron(0 0 30 2 ? *)", "never fires"),
        ("cron(0 0 ? * * 1969)", "year value 1969 is outside 1970-2199"),
        ("cron(0 0 ? * * 2150)", "years after 2099 are not supported"),
        ("cron(0 0 ? * * abc)", "year 'abc' takes numbers only"),
        ("0 0 30 2 *", "never fires"),
        ("61 * * * *", "not a valid cron expression"),
        ("H * * * *", "hashed or random values"),
        ("@reboot", "unknown nickname"),
        ("rate(1 minutes)", "rate(1 minutes): use the singular unit with 1, as in rate(1 minute)"),
        ("rate(5 minute)", "rate(5 minute): use the plural unit above 1, as in rate(5 minutes)"),
        ("rate(1 hours)", "as in rate(1 hour)"),
        ("rate(2 day)", "as in rate(2 days)"),
        ("rate(0 minutes)", "at least 1"),
        ("rate(-5 minutes)", "at least 1"),
        ("rate(30 seconds)", "shortest cadence is one minute"),
        ("rate(2 weeks)", "unknown unit 'weeks'"),
        ("rate(5)", "expected rate(N minutes|hours|days)"),
        ("rate(1.5 hours)", "expected rate(N minutes|hours|days)"),
        ("", "empty schedule expression"),
        ("every day", "every day: expected cron(Minutes Hours"),
    ],
)
def test_rejected_expressions(expression: str, message: str):
    with pytest.raises(ConfigError) as e:
        parse_schedule(expression)
    assert message in str(e.value)
    assert "[config_error]" in str(e.value)
    assert isinstance(e.value, ValueError) and isinstance(e.value, VigilError)


# --- offsets --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-PT1H", -timedelta(hours=1)),
        ("-PT0H", timedelta(0)),
        ("PT0H", timedelta(0)),
        ("PT30M", timedelta(minutes=30)),
        ("-PT90S", -timedelta(seconds=90)),
        ("PT1.5S", timedelta(seconds=1.5)),
        ("P1D", timedelta(days=1)),
        ("-P8D", -timedelta(days=8)),
        ("P1DT2H", timedelta(days=1, hours=2)),
        ("-P1DT2H30M15S", -timedelta(days=1, hours=2, minutes=30, seconds=15)),
        ("P2W", timedelta(weeks=2)),
        ("+PT5M", timedelta(minutes=5)),
        ("-pt1h", -timedelta(hours=1)),
        (" -PT1H ", -timedelta(hours=1)),
    ],
)
def test_parse_offset(text: str, expected: timedelta):
    assert parse_offset(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-P1M", "years and months have no fixed length"),
        ("P1Y", "years and months have no fixed length"),
        ("P1Y2M3D", "years and months have no fixed length"),
        ("P", "expected an ISO-8601 duration"),
        ("PT", "expected an ISO-8601 duration"),
        ("-P1DT", "expected an ISO-8601 duration"),
        ("1H", "expected an ISO-8601 duration"),
        ("-PT1H30", "expected an ISO-8601 duration"),
        ("PT1M1H", "expected an ISO-8601 duration"),
        ("--PT1H", "expected an ISO-8601 duration"),
        ("", "expected an ISO-8601 duration"),
    ],
)
def test_parse_offset_rejects(text: str, message: str):
    with pytest.raises(ConfigError, match=message):
        parse_offset(text)


def test_minutes_in_the_time_part_are_not_months():
    assert parse_offset("PT1M") == timedelta(minutes=1)
    assert parse_offset("P1DT1M") == timedelta(days=1, minutes=1)


# --- windows --------------------------------------------------------------------------------

NOON = utc(2024, 3, 10, 12)


@pytest.mark.parametrize(
    ("expression", "start"),
    [
        ("cron(0 * ? * * *)", utc(2024, 3, 10, 11)),
        ("cron(0 0/6 ? * * *)", utc(2024, 3, 10, 6)),
        ("cron(0 12 ? * * *)", utc(2024, 3, 9, 12)),
        ("rate(5 minutes)", utc(2024, 3, 10, 11, 55)),
        ("rate(1 day)", utc(2024, 3, 9, 12)),
        ("*/10 * * * *", utc(2024, 3, 10, 11, 50)),
    ],
)
def test_window_defaults_to_the_previous_period(expression: str, start: datetime):
    assert window_for(expression, NOON) == (start, NOON)
    assert window_for(parse_schedule(expression), NOON) == (start, NOON)


def test_window_with_offsets():
    hourly = "cron(0 * ? * * *)"
    assert window_for(hourly, NOON, "-PT1H", "-PT0H") == (utc(2024, 3, 10, 11), NOON)
    assert window_for(hourly, NOON, "-PT3H", "-PT1H") == (utc(2024, 3, 10, 9), utc(2024, 3, 10, 11))
    # one offset given: the other keeps its default
    assert window_for(hourly, NOON, end_offset="-PT15M") == (
        utc(2024, 3, 10, 11),
        utc(2024, 3, 10, 11, 45),
    )
    assert window_for(hourly, NOON, start_offset="-P1D") == (utc(2024, 3, 9, 12), NOON)
    assert window_for(hourly, NOON, timedelta(hours=-2), timedelta(0)) == (
        utc(2024, 3, 10, 10),
        NOON,
    )


def test_window_times_are_utc():
    plus2 = timezone(timedelta(hours=2))
    start, end = window_for("rate(1 hour)", datetime(2024, 3, 10, 14, tzinfo=plus2))
    assert (start, end) == (utc(2024, 3, 10, 11), NOON)
    assert end.tzinfo is UTC
    assert window_for("rate(1 hour)", datetime(2024, 3, 10, 12)) == (utc(2024, 3, 10, 11), NOON)


def test_window_for_now_needs_both_offsets():
    assert window_for("NOW", NOON, "-PT2H", "-PT0H") == (utc(2024, 3, 10, 10), NOON)
    for start, end in ((None, None), ("-PT1H", None), (None, "-PT0H")):
        with pytest.raises(ConfigError, match="NOW: a one-time schedule needs both window offsets"):
            window_for("NOW", NOON, start, end)


def test_window_start_must_precede_end():
    with pytest.raises(ConfigError, match="is not before its end"):
        window_for("rate(1 hour)", NOON, "-PT1H", "-PT2H")
    with pytest.raises(ConfigError, match="is not before its end"):
        window_for("rate(1 hour)", NOON, "-PT1H", "-PT1H")
    with pytest.raises(ConfigError, match="offset -PT2H"):
        window_for("rate(1 hour)", NOON, end_offset="-PT2H")
    with pytest.raises(ConfigError, match="years and months"):
        window_for("rate(1 hour)", NOON, "-P1M")


# --- properties -----------------------------------------------------------------------------

MINUTES = ["*", "0", "*/5", "5,35", "10-20/3", "59", "0/15"]
HOURS = ["*", "0", "12", "*/6", "1-5", "22/1", "8,20"]
DAYS_OF_MONTH = ["*", "1", "15", "L", "1-10/3", "15W", "29", "31"]
MONTHS = ["*", "1", "2-4", "JAN,JUL", "*/3", "FEB"]
DAYS_OF_WEEK = ["*", "1", "2", "7", "2-6", "MON-FRI", "SUN,SAT", "2#2", "6L", "L", "*/2", "3/2"]
YEARS = ["*", "2024-2030", "*"]


@st.composite
def aws_cron(draw: st.DrawFn) -> tuple[str, str]:
    m, h, mo, y = (draw(st.sampled_from(f)) for f in (MINUTES, HOURS, MONTHS, YEARS))
    if draw(st.booleans()):
        dom, dow = draw(st.sampled_from(DAYS_OF_MONTH)), "?"
        assume(not (dom == "31" and mo == "FEB"))  # never fires: rejected by parse_schedule
    else:
        dom, dow = "?", draw(st.sampled_from(DAYS_OF_WEEK))
    return f"cron({m} {h} {dom} {mo} {dow} {y})", dow


STARTS = st.datetimes(min_value=datetime(2023, 1, 1), max_value=datetime(2028, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC)
)


def _aws_weekday(t: datetime) -> int:
    """AWS day-of-week number of ``t`` from Python's calendar: 1=SUN .. 7=SAT."""
    return t.isoweekday() % 7 + 1


@settings(max_examples=150, deadline=None)
@given(aws_cron(), STARTS)
def test_aws_next_after_increases_and_matches_croniter(expr_dow: tuple[str, str], t: datetime):
    expression, dow = expr_dow
    s = parse_schedule(expression)
    assert isinstance(s, CronSchedule)
    previous = t
    for _ in range(5):
        n = s.next_after(previous)
        if n is None:  # the year field ran out
            assert "2030" in expression
            break
        assert n > previous
        assert n.tzinfo is UTC and n.second == 0 and n.microsecond == 0
        assert croniter.match(s.croniter_expression, n)
        # nothing fires in between (None: n is the first fire time of a year range)
        before = s.previous_before(n)
        assert before is None or before <= previous
        # the AWS day-of-week, checked against Python's calendar rather than croniter
        if dow.isdigit():
            assert _aws_weekday(n) == int(dow)
        elif dow == "L":
            assert _aws_weekday(n) == 7
        previous = n


STANDARD = st.tuples(
    st.sampled_from(["*", "0", "*/5", "5,35", "10-20/3"]),
    st.sampled_from(["*", "0", "*/6", "1-5"]),
    st.sampled_from(["*", "1", "15", "1-10/3"]),
    st.sampled_from(["*", "1", "2-4", "*/3"]),
    st.sampled_from(["*", "0", "1", "7", "1-5", "SUN,SAT"]),
).map(" ".join)


@settings(max_examples=100, deadline=None)
@given(STANDARD, STARTS)
def test_standard_next_after_increases_and_matches_croniter(expression: str, t: datetime):
    s = parse_schedule(expression)
    previous = t
    for _ in range(5):
        n = s.next_after(previous)
        assert n is not None and n > previous
        assert croniter.match(expression, n)
        assert s.previous_before(n) <= previous
        previous = n


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from([1, 2, 5, 7, 13, 60, 90]), st.sampled_from(["minute", "hour", "day"]), STARTS
)
def test_rate_next_after_is_on_the_epoch_grid(value: int, unit: str, t: datetime):
    s = parse_schedule(f"rate({value} {unit}{'s' if value > 1 else ''})")
    n = s.next_after(t)
    assert t < n <= t + s.period(t)
    assert (n - EPOCH) % s.period(t) == timedelta(0)
    assert s.previous_before(n) == n - s.period(t)
