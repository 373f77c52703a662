"""The pattern language's documented examples as table tests: they are the specification.

Sources: aws/event-ruler's README ("Ruler by Example", "$or", "JSON Array Matching") and
its RulerTest.java (exists, anything-but, wildcard tables); EventBridge's "Content filtering
in Amazon EventBridge event patterns" page; /work/shared/reference/platform.md §1.6.
"""

from __future__ import annotations

from typing import Any

import pytest

from vigil.events.patterns import PatternError, compile_pattern, match, validate_pattern

# event-ruler README, "Ruler by Example": the sample event
EC2 = {
    "version": "0", "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
    "detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2",
    "account": "012345679012", "time": "2017-10-02T16:24:49Z", "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
    "detail": {"c-count": 5, "d-count": 3, "x-limit": 301.8, "source-ip": "10.0.0.33",
               "instance-id": "i-000000aaaaaa00000", "state": "running"},
}  # fmt: skip

# event-ruler README: "The rules in this section all match the sample event above"
README_MATCHING = [
    {"detail-type": ["EC2 Instance State-change Notification"],
     "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
     "detail": {"state": ["initializing", "running"]}},
    {"time": [{"prefix": "2017-10-02"}]},
    {"source": [{"prefix": {"equals-ignore-case": "AWS.E"}}]},
    {"source": [{"suffix": "ec2"}]},
    {"source": [{"suffix": {"equals-ignore-case": "EC2"}}]},
    {"source": [{"equals-ignore-case": "AWS.EC2"}]},
    {"detail": {"state": [{"anything-but": "initializing"}]}},
    {"detail": {"x-limit": [{"anything-but": 123}]}},
    {"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}},
    {"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}},
    {"detail": {"state": [{"anything-but": {"prefix": "init"}}]}},
    {"detail": {"state": [{"anything-but": {"prefix": ["init", "error"]}}]}},
    {"detail": {"instance-id": [{"anything-but": {"suffix": "1234"}}]}},
    {"detail": {"instance-id": [{"anything-but": {"suffix": ["1234", "6789"]}}]}},
    {"detail": {"state": [{"anything-but": {"equals-ignore-case": "Stopped"}}]}},
    {"detail": {"state": [{"anything-but": {"equals-ignore-case": ["Stopped", "OverLoaded"]}}]}},
    {"detail": {"state": [{"anything-but": {"wildcard": "*/bin/*.jar"}}]}},
    {"detail": {"state": [{"anything-but": {"wildcard": ["*/bin/*.jar", "*/bin/*.class"]}}]}},
    {"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}], "d-count": [{"numeric": ["<", 10]}],
                "x-limit": [{"numeric": ["=", 3.018e2]}]}},
    {"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}},
    {"detail": {"c-count": [{"exists": True}]}},
    {"time": [{"prefix": "2017-10-02"}],
     "detail": {"state": [{"anything-but": "initializing"}],
                "c-count": [{"numeric": [">", 0, "<=", 5]}], "d-count": [{"numeric": ["<", 10]}],
                "x-limit": [{"anything-but": [100, 200, 300]}],
                "source-ip": [{"cidr": "10.0.0.0/8"}]}},
    {"source": [{"wildcard": "aws.*"}]},
    {"source": ["aws.ec2"], "$or": [{"region": ["eu-west-1"]}, {"account": ["012345679012"]}]},
]  # fmt: skip

README_NOT_MATCHING = [
    {"detail": {"c-count": [{"exists": False}]}},
    {"source": ["AWS.EC2"]},  # strings match exactly, no case folding
    {"detail": {"x-limit": [301]}},  # a literal number by its JSON text
    {"detail": {"source-ip": [{"cidr": "10.0.1.0/24"}]}},
    {"detail": {"state": [{"anything-but": {"prefix": ["run", "init"]}}]}},
    {"detail": {"c-count": [{"numeric": [">", 5]}]}},
    {"detail": {"source-ip": [{"cidr": "2001:db8::/32"}]}},
]  # fmt: skip


@pytest.mark.parametrize("pattern", README_MATCHING)
def test_readme_rules_match_the_sample_event(pattern: dict[str, Any]) -> None:
    assert match(pattern, EC2)


@pytest.mark.parametrize("pattern", README_NOT_MATCHING)
def test_rules_that_do_not_match_the_sample_event(pattern: dict[str, Any]) -> None:
    assert not match(pattern, EC2)


def test_exists_only_at_leaves() -> None:
    # README "Exists matching": exists false also matches when c-count leads to an object
    event = {**EC2, "detail": {"state": "running", "c-count": {"c1": 100}}}
    assert match({"detail": {"c-count": [{"exists": False}]}}, event)
    assert not match({"detail": {"c-count": [{"exists": True}]}}, event)
    # RulerTest.WHEN_WeTryToMatchExistsRules_THEN_TheyWork
    rules = [{"a": [{"exists": True}]}, {"b": [{"exists": False}]},
             {"x": [{"exists": True}]}, {"x": [{"exists": False}]}]  # fmt: skip
    events = [{"a": 1}, {"b": 2}, {"x": "X"}]
    expected = [[True, True, False, True], [False, False, False, True],
                [False, True, True, False]]  # fmt: skip
    assert [[match(r, e) for r in rules] for e in events] == expected


def test_anything_but_table_from_ruler_tests() -> None:
    # RulerTest.WHEN_WeTryAnythingButRules_THEN_Theywork: one rule, eleven events, only the
    # first matches ("b" is the string "444": a string is never one of the excluded numbers)
    rule = {
        "a": [{"anything-but": ["dad0", "dad1", "dad2"]}], "b": [{"anything-but": [111, 222, 333]}],
        "c": [{"anything-but": "zdd"}], "d": [{"anything-but": 444}],
        "z": [{"numeric": [">", 0, "<", 1]}], "w": [{"anything-but": {"prefix": "zax"}}],
        "n": [{"anything-but": {"suffix": "ing"}}],
        "o": [{"anything-but": {"equals-ignore-case": "CamelCase"}}],
        "p": [{"anything-but": {"equals-ignore-case": ["CamelCase", "AbC"]}}],
    }  # fmt: skip
    base = {"a": "child1", "b": "444", "c": "child1", "d": 123, "w": "xaz", "z": 0.001,
            "n": "nomatch", "o": "nomatch", "p": "nomatch"}  # fmt: skip
    changes = [{}, {"a": "dad789", "b": 789, "c": "zdd"}, {"a": "dad789", "b": 789, "z": 1.01},
               {"a": "dad1", "b": 345}, {"a": "abc", "b": 111}, {"a": "dad1", "b": 333},
               {"a": "abc", "b": 0, "d": 444, "z": 0.999999}, {"w": "zaxonie"},
               {"n": "matching"}, {"o": "camelcase"}, {"p": "abc"}]  # fmt: skip
    assert [match(rule, {**base, **c}) for c in changes] == [True] + [False] * 10


def test_equals_ignore_case_and_wildcard_tables_from_ruler_tests() -> None:
    rule = {"a": [{"equals-ignore-case": "aBc"}], "b": [{"equals-ignore-case": "Def"}],
            "c": [{"equals-ignore-case": "xyZ"}]}  # fmt: skip
    events = [{"a": "ABC", "b": "defx", "c": "xYz"}, {"a": "ABC", "c": "xYz"},
              {"a": "ABC", "b": "xYz", "c": "def"}, {"a": "ABC", "b": "def", "c": "xYz"}]
    assert [match(rule, e) for e in events] == [False, False, False, True]
    wild = {"a": [{"wildcard": "*bc"}], "b": [{"wildcard": "d*f"}], "c": [{"wildcard": "xy*"}]}
    assert match(wild, {"a": "abcbc", "b": "deeeef", "c": "xy"})
    assert not match(wild, {"a": "abcbc", "b": "deeeefx", "c": "xy"})
    assert match({"f": [{"wildcard": "a\\*b"}]}, {"f": "a*b"})
    assert not match({"f": [{"wildcard": "a\\*b"}]}, {"f": "axb"})
    assert match({"f": [{"wildcard": "a\\\\b"}]}, {"f": "a\\b"})


def test_json_array_matching_is_array_consistent() -> None:
    # README "JSON Array Matching"
    event = {"employees": [{"firstName": "John", "lastName": "Doe"},
                           {"firstName": "Anna", "lastName": "Smith"},
                           {"firstName": "Peter", "lastName": "Jones"}]}  # fmt: skip
    assert match({"employees": {"firstName": ["Anna"]}}, event)
    assert not match({"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}, event)
    nested = {"employees": [[event["employees"][0], event["employees"][1]],
                            [event["employees"][2]]]}  # fmt: skip
    assert match({"employees": {"firstName": ["Peter"]}}, nested)
    assert match({"resources": ["b", "c"]}, {"resources": ["a", "b"]})  # any shared element


def test_or_nesting_and_or_as_a_field_name() -> None:
    # README "$or": nested "Or" and "And"
    pattern = {"source": ["aws.cloudwatch"], "$or": [
        {"metricName": ["CPUUtilization", "ReadLatency"]},
        {"metricType": ["MetricType"], "namespace": ["AWS/EC2", "AWS/ES"],
         "$or": [{"metricId": [1234]}, {"spaceId": [1000]}]},
        {"scope": ["Service"]}]}  # fmt: skip
    base = {"source": "aws.cloudwatch"}
    assert match(pattern, {**base, "scope": "Service"})
    assert match(pattern, {**base, "metricType": "MetricType", "namespace": "AWS/ES",
                           "spaceId": 1000})  # fmt: skip
    assert not match(pattern, {**base, "metricType": "MetricType", "namespace": "AWS/ES"})
    assert not match(pattern, {"source": "aws.ec2", "scope": "Service"})
    # one object, or operator keys inside: "$or" is an ordinary field
    assert match({"$or": {"metricType": ["MetricType"]}}, {"$or": {"metricType": "MetricType"}})
    assert not match({"$or": {"metricType": ["MetricType"]}}, {"metricType": "MetricType"})


def test_literals_null_empty_and_numbers_by_text() -> None:
    event = {"u": None, "n": "", "i": 300, "f": 300.0, "b": True}
    assert match({"u": [None], "n": [""]}, event)
    assert not match({"u": [""]}, event) and not match({"n": [None]}, event)
    assert match({"i": [300]}, event) and not match({"i": [300.0]}, event)
    assert match({"f": [300.0]}, event) and not match({"f": [300]}, event)
    assert match({"i": [{"numeric": ["=", 3.0e2]}], "f": [{"numeric": ["=", 300]}]}, event)
    assert match({"b": [True]}, event) and not match({"b": [1]}, event)
    assert not match({"b": [{"numeric": [">", 0]}]}, event)  # a boolean is not a number
    assert match({"i": "300"}, {"i": "300"})  # a bare scalar reads as [scalar]


def test_exists_false_through_missing_objects_and_empty_arrays() -> None:
    assert match({"detail": {"x": [{"exists": False}]}}, {})
    assert match({"detail": {"x": [{"exists": False}]}}, {"detail": "scalar"})
    assert match({"a": [{"exists": False}]}, {"a": []})  # an empty array holds no leaf
    assert not match({"a": [{"exists": True}]}, {"a": []})
    assert match({"a": [{"exists": True}]}, {"a": None})  # null is a value


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ({"detail": {"x": [{"wildcard": "a**b"}]}}, "pattern.detail.x[0]: wildcard 'a**b' has"),
        ({"x": ["ok", {"wildcard": "a\\b"}]}, "pattern.x[1]: wildcard"),
        ({"x": [{"anything-but": ["a", 1]}]}, "pattern.x[0]: anything-but expects a string,"),
        ({"x": [{"anything-but": []}]}, "pattern.x[0]: anything-but expects a non-empty"),
        ({"x": [{"anything-but": {"numeric": [">", 1]}}]}, "pattern.x[0]: anything-but takes"),
        ({"x": [{"anything-but": {"prefix": 3}}]}, "anything-but prefix expects a string"),
        ({"x": [{"prefix": {"equals-ignore-case": 3}}]}, "pattern.x[0]: prefix.equals-ignore"),
        ({"x": [{"suffix": {"bogus": "a"}}]}, "pattern.x[0]: suffix takes a string or"),
        ({"x": [{"numeric": [">", 1, ">", 2]}]}, "pattern.x[0]: a numeric range is one lower"),
        ({"x": [{"numeric": ["=", 1, "<", 2]}]}, "a numeric range is one lower"),
        ({"x": [{"numeric": [">", True]}]}, "numeric bound after '>' must be a number"),
        ({"x": [{"cidr": "10.0.0.300/8"}]}, "pattern.x[0]: cidr '10.0.0.300/8' is not"),
        ({"x": [{"exists": 1}]}, "pattern.x[0]: exists expects true or false"),
        ({"x": [[1]]}, "pattern.x[0]: expected a literal or an operator object"),
        ({"$or": [{"a": [1]}, {"b": [{"prefx": "a"}]}]}, "pattern.$or[1].b[0]: unknown operator"),
        ({"d": {"e": []}}, "pattern.d.e: an empty list matches nothing"),
    ],
)
def test_malformed_operators_name_their_path(pattern: dict[str, Any], message: str) -> None:
    with pytest.raises(PatternError) as caught:
        validate_pattern(pattern)
    assert message in str(caught.value)
    with pytest.raises(PatternError):
        compile_pattern(pattern)
