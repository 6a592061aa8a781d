"""The jobs' time budget (chalicelib/services/budget.py), on a clock that moves only when told to."""
from __future__ import annotations

from chalicelib.services.budget import TimeBudget
from tests.support.fakes import Ticks


def test_the_first_item_is_handled_even_past_a_spent_budget():
    clock = Ticks()
    budget = TimeBudget(5, clock)
    clock.now += 30  # the candidate query alone outlasted the budget
    assert list(budget.each(["a", "b", "c"])) == ["a"]
    assert budget.handled == 1 and budget.stopped is True


def test_it_stops_when_the_budget_is_spent_and_says_how_many_it_handled():
    clock = Ticks()
    budget = TimeBudget(10, clock)
    items = iter(["a", "b", "c", "d", "e"])
    handled = []
    for item in budget.each(items):
        handled.append(item)
        clock.now += 4  # each item takes 4 s: after the third, 12 s are spent
    assert handled == ["a", "b", "c"] and budget.handled == 3 and budget.stopped is True
    assert list(items) == ["e"]  # "d" was held back, the rest never read: 2 left for the next run


def test_a_budget_that_lasts_hands_out_everything_over_several_sources():
    clock = Ticks()
    budget = TimeBudget(10, clock)
    assert list(budget.each([1, 2])) + list(budget.each([3])) == [1, 2, 3]
    assert budget.handled == 3 and budget.stopped is False
    assert list(TimeBudget(None, clock).each(range(4))) == [0, 1, 2, 3]


def test_a_stopped_budget_gives_out_nothing_more_and_the_first_item_is_per_budget():
    clock = Ticks()
    budget = TimeBudget(1, clock)
    assert list(budget.each(["a"])) == ["a"]
    clock.now += 2
    assert list(budget.each(["b"])) == [] and budget.stopped is True
    assert list(budget.each(["c"])) == []
