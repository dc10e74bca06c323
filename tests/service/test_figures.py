"""Kaplan–Meier response figures on samples small enough to check on paper."""

from __future__ import annotations

import math
import statistics

import pytest

from service.referrals.figures import (
    Observation,
    ResponseFigure,
    describe,
    kaplan_meier,
    response_figure,
)

# Reads the clock: .ci/run also runs it at fixed awkward dates.
pytestmark = pytest.mark.dated


def answered(*waits: float) -> list[Observation]:
    return [Observation(w, True) for w in waits]


def unanswered(*waits: float) -> list[Observation]:
    return [Observation(w, False) for w in waits]


def test_all_answered_the_median_is_the_ordinary_median() -> None:
    sample = answered(4, 1, 3, 2, 5)
    # Each answer removes one of the five: S = 4/5, 3/5, 2/5, 1/5, 0.
    assert kaplan_meier(sample) == [(1, 0.8), (2, 0.6), (3, 0.4), (4, 0.2), (5, 0.0)]
    figure = response_figure(sample)
    assert figure.median == statistics.median([4, 1, 3, 2, 5]) == 3
    assert (figure.count, figure.answered, figure.share_within) == (5, 5, 1.0)
    # Within 2.5 working days: S(2.5) = S(2) = 3/5, so 2/5 answered.
    assert response_figure(sample, within_days=2.5).share_within == pytest.approx(0.4)


def test_all_answered_even_count_takes_the_lower_middle() -> None:
    # S(2) = 2/4 = 1/2 exactly: the smallest t with S(t) <= 1/2 is 2 (the ordinary median
    # would average to 2.5). Exact fractions make S = 1/2 really equal to 1/2.
    assert response_figure(answered(1, 2, 3, 4)).median == 2
    # Thirds multiply to one half too: 6 referrals, S(3) = 5/6 · 4/5 · 3/4 = 1/2.
    assert response_figure(answered(1, 2, 3, 4, 5, 6)).median == 3


def test_censored_referrals_count_and_make_the_median_honest() -> None:
    # Answered after 1, 2, 4 and 6 working days; one expired after 3 days, one still
    # waiting after 8. By hand, with n the referrals still waiting just before t:
    #   t=1: n=6, S = 5/6
    #   t=2: n=5, S = 5/6 · 4/5 = 2/3
    #   (the one censored at 3 leaves the risk set)
    #   t=4: n=3, S = 2/3 · 2/3 = 4/9  <= 1/2  → median 4
    #   t=6: n=2, S = 4/9 · 1/2 = 2/9
    sample = answered(1, 2, 4, 6) + unanswered(3, 8)
    assert kaplan_meier(sample) == [(1, 5 / 6), (2, 2 / 3), (4, 4 / 9), (6, 2 / 9)]
    figure = response_figure(sample)
    assert figure == ResponseFigure(count=6, answered=4, median=4, share_within=5 / 9)

    # Dropping the unanswered ones would flatter the partner: median 2 (ordinary median
    # 3), and three answers out of four within 5 days instead of 5/9.
    dropped = response_figure(answered(1, 2, 4, 6))
    assert dropped.median == 2 and statistics.median([1, 2, 4, 6]) == 3
    assert dropped.share_within == 0.75
    assert dropped.median < figure.median
    # Counting them as answered at their age is just as dishonest: median 3.
    assert response_figure(answered(1, 2, 4, 6, 3, 8)).median == 3


def test_all_censored_has_no_median() -> None:
    sample = unanswered(6, 7, 9)
    assert kaplan_meier(sample) == []
    figure = response_figure(sample)
    assert (figure.count, figure.answered, figure.median) == (3, 0, None)
    # All three have waited more than 5 days without an answer: none within 5 days.
    assert figure.share_within == 0.0


def test_share_within_is_unknown_before_anyone_has_waited_that_long() -> None:
    # Sent recently: one answer after 1 day, two waiting for 2 and 3 days. Nothing is known
    # of what happens at 5 days yet.
    assert response_figure(answered(1) + unanswered(2, 3)).share_within is None
    # Unless everyone has already answered.
    assert response_figure(answered(1, 2)).share_within == 1.0


def test_ties_events_come_before_censoring() -> None:
    # At t=2 one answer and one referral censored: both were still waiting at 2, so
    # S(2) = 3/4 (not 2/3, as if the censored one had left before). Then at t=3, n=2:
    # S(3) = 3/4 · 1/2 = 3/8, median 3; at t=5, n=1: S = 0.
    sample = [*answered(2), *unanswered(2), *answered(3, 5)]
    assert kaplan_meier(sample) == [(2, 0.75), (3, 0.375), (5, 0.0)]
    assert response_figure(sample).median == 3


def test_ties_between_events() -> None:
    # Two answers at t=2 out of 4: S(2) = 2/4, median 2; censored at 3, then S(4) = 0.
    sample = answered(2, 2, 4) + unanswered(3)
    assert kaplan_meier(sample) == [(2, 0.5), (4, 0.0)]
    assert response_figure(sample).median == 2


def test_order_does_not_matter() -> None:
    sample = answered(1, 2, 4, 6) + unanswered(3, 8)
    assert response_figure(reversed(sample)) == response_figure(iter(sample))


def test_no_observations() -> None:
    assert kaplan_meier([]) == []
    assert response_figure([]) == ResponseFigure(0, 0, None, None)


@pytest.mark.parametrize("waited", [-1.0, math.nan, math.inf])
def test_impossible_waits_are_refused(waited: float) -> None:
    with pytest.raises(ValueError):
        response_figure([Observation(waited, True)])


def test_describe_answers() -> None:
    figure = ResponseFigure(count=12, answered=10, median=3.2, share_within=0.7)
    assert describe(figure, "répondre") == (
        "Répond en général en 3 jours ouvrés (12 orientations, dont 2 sans réponse à ce jour)."
    )
    assert describe(figure, "accuser réception") == (
        "Accuse réception en général en 3 jours ouvrés "
        "(12 orientations, dont 2 sans accusé de réception à ce jour)."
    )


def test_describe_when_everything_was_answered() -> None:
    figure = ResponseFigure(count=5, answered=5, median=0.4, share_within=1.0)
    assert describe(figure, "accuser réception") == (
        "Accuse réception en général en moins d'un jour ouvré (5 orientations)."
    )


def test_describe_unknown_median() -> None:
    figure = ResponseFigure(count=8, answered=3, median=None, share_within=None)
    assert describe(figure, "répondre") == (
        "Plus de la moitié des orientations n'ont pas encore reçu de réponse (8 orientations)."
    )
    assert describe(figure, "accuser réception") == (
        "Plus de la moitié des orientations n'ont pas encore reçu d'accusé de réception "
        "(8 orientations)."
    )


def test_describe_too_few() -> None:
    for count in (0, 1, 2):
        figure = ResponseFigure(count=count, answered=count, median=1.0, share_within=1.0)
        assert describe(figure, "répondre") == (
            "Pas encore assez d'orientations pour donner un délai habituel."
        )


@pytest.mark.parametrize(
    ("median", "words"),
    [
        (0.0, "moins d'un jour ouvré"),
        (0.99, "moins d'un jour ouvré"),
        (1.0, "1 jour ouvré"),
        (1.49, "1 jour ouvré"),
        (1.5, "2 jours ouvrés"),
        (2.5, "3 jours ouvrés"),
        (10.4, "10 jours ouvrés"),
        (11.0, "2 semaines"),
        (12.5, "3 semaines"),
        (21.0, "4 semaines"),
    ],
)
def test_describe_rounds_durations(median: float, words: str) -> None:
    figure = ResponseFigure(count=3, answered=3, median=median, share_within=None)
    assert describe(figure, "répondre") == f"Répond en général en {words} (3 orientations)."


def test_describe_from_observations() -> None:
    sample = answered(1, 2, 4, 6) + unanswered(3, 8)
    assert describe(response_figure(sample), "répondre") == (
        "Répond en général en 4 jours ouvrés (6 orientations, dont 2 sans réponse à ce jour)."
    )


def test_describe_refuses_unknown_figures() -> None:
    with pytest.raises(ValueError):
        describe(ResponseFigure(3, 3, 1.0, 1.0), "classer")
