"""Every eligible (candidate, role) pair with its score, computed on arrays.

The rules are those of ``constraints.eligible`` that need no other proposal (station, sign-ups
already held, consent,
Party-only, skills, languages, weekly availability, busy intervals, a month already at its
maximum) and the score is ``scoring.pair_score``; tests hold both equal to those reference
functions. Arrays make 5,000 people × 1,000 roles a matter of milliseconds, where calling the
reference functions pair by pair would take seconds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from coordinator.matching.constraints import remaining_in_month
from coordinator.matching.model import Candidate, OpenRole, Weights, YearMonth
from coordinator.matching.scoring import recent_fraction, reliability_fraction
from coordinator.matching.weekly import WEEK, merged_spans, role_span

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

NO_CAP = 1 << 30


@dataclass(frozen=True)
class Pairs:
    """Parallel arrays, sorted by person then role."""

    person: IntArray  # index into the candidates
    role: IntArray  # index into the roles
    score: FloatArray
    # Events the person may still take in the role's month (NO_CAP: no maximum).
    remaining: IntArray

    def __len__(self) -> int:
        return len(self.person)


def _indicator(sets: Sequence[frozenset[str]], codes: dict[str, int]) -> npt.NDArray[np.float32]:
    """Rows: the sets; columns: the codes; 1 where the set holds the code (codes not listed ignored)."""
    matrix = np.zeros((len(sets), len(codes)), dtype=np.float32)
    for row, members in enumerate(sets):
        for code in members:
            if (column := codes.get(code)) is not None:
                matrix[row, column] = 1.0
    return matrix


def _padded(rows: Sequence[Sequence[tuple[float, float]]], empty: tuple[float, float]) -> FloatArray:
    """A (len(rows), widest, 2) array of (low, high) pairs; short rows padded with ``empty``."""
    width = max((len(row) for row in rows), default=0)
    out = np.empty((len(rows), width, 2), dtype=np.float64)
    out[:] = empty
    for index, row in enumerate(rows):
        if row:
            out[index, : len(row)] = row
    return out


class _Encoded:
    """The inputs as arrays over all candidates (P) and roles (R)."""

    def __init__(
        self, roles: Sequence[OpenRole], candidates: Sequence[Candidate], weights: Weights, now: datetime
    ) -> None:
        skill_codes = {c: i for i, c in enumerate(sorted(set().union(*(r.required_skills for r in roles))))}
        pref_codes = {c: i for i, c in enumerate(sorted(set().union(*(r.preferred_skills for r in roles))))}
        lang_codes = {c: i for i, c in enumerate(sorted(set().union(*(r.required_languages for r in roles))))}
        res_codes = {c: i for i, c in enumerate(sorted(set().union(*(r.resident_languages for r in roles))))}
        skills = [c.skills for c in candidates]
        languages = [c.languages for c in candidates]
        self.has_skill = _indicator(skills, skill_codes)
        self.has_pref = _indicator(skills, pref_codes)
        self.has_lang = _indicator(languages, lang_codes)
        self.has_res = _indicator(languages, res_codes)
        self.req_skill = _indicator([r.required_skills for r in roles], skill_codes).T.copy()
        self.pref_skill = _indicator([r.preferred_skills for r in roles], pref_codes).T.copy()
        self.req_lang = _indicator([r.required_languages for r in roles], lang_codes).T.copy()
        self.res_lang = _indicator([r.resident_languages for r in roles], res_codes).T.copy()

        self.consent = np.array([c.contact_consent for c in candidates], dtype=np.bool_)
        # (candidate, role) pairs at an event the candidate already has a live sign-up for.
        roles_of_event: dict[int, list[int]] = defaultdict(list)
        for index, role in enumerate(roles):
            roles_of_event[role.event_id].append(index)
        self.signed_up: dict[int, list[int]] = {
            person: [r for event in c.signed_up_event_ids for r in roles_of_event.get(event, ())]
            for person, c in enumerate(candidates)
            if c.signed_up_event_ids
        }
        self.party = np.array([c.is_party_member for c in candidates], dtype=np.bool_)
        self.party_only = np.array([r.party_members_only for r in roles], dtype=np.bool_)

        spans = [role_span(r) for r in roles]
        self.span_lo = np.array([s[0] for s in spans], dtype=np.float64)
        self.span_hi = np.array([s[1] for s in spans], dtype=np.float64)
        # Only spans that can hold a role starting this week matter.
        windows = [
            [(lo, hi) for lo, hi in merged_spans(c.availability) if hi > 0 and lo < 2 * WEEK]
            for c in candidates
        ]
        self.windows = _padded(windows, (np.inf, -np.inf))
        self.busy = _padded([[(s.timestamp(), e.timestamp()) for s, e in c.busy] for c in candidates], (0, 0))
        self.starts = np.array([r.starts_at.timestamp() for r in roles], dtype=np.float64)
        self.ends = np.array([r.ends_at.timestamp() for r in roles], dtype=np.float64)

        # remaining_in_month depends on the role only through its month and the month of `now`
        # in the role's zone, so one representative role per such key answers for all.
        keys: dict[tuple[YearMonth, YearMonth], int] = {}
        representative: list[OpenRole] = []
        month_of_role = []
        for role in roles:
            key = (role.month, role.month_of(now))
            if key not in keys:
                keys[key] = len(representative)
                representative.append(role)
            month_of_role.append(keys[key])
        self.role_month = np.array(month_of_role, dtype=np.int64)
        self.remaining = np.array(
            [[_cap(remaining_in_month(c, r, now=now)) for r in representative] for c in candidates],
            dtype=np.int64,
        ).reshape(len(candidates), len(representative))

        self.weights = weights
        self.recent = np.array([recent_fraction(c.last_asked_at, now) for c in candidates], dtype=np.float64)
        self.load = np.array(
            [1.0 / (1 + max(c.served_this_quarter, 0)) for c in candidates], dtype=np.float64
        )
        self.reliability = np.array([reliability_fraction(c.attendance_rate) for c in candidates])
        self.visitors: dict[int, list[int]] = defaultdict(list)
        wanted = set().union(*(r.resident_ids for r in roles))
        for index, candidate in enumerate(candidates):
            for resident in candidate.visited_resident_ids & wanted:
                self.visitors[resident].append(index)


def _cap(remaining: int | None) -> int:
    return NO_CAP if remaining is None else remaining


def _shares(have: npt.NDArray[np.float32], wanted: npt.NDArray[np.float32]) -> FloatArray:
    """Share of each role's wanted codes that each person has (0 where the role wants none)."""
    if wanted.shape[0] == 0:
        return np.zeros((have.shape[0], wanted.shape[1]), dtype=np.float64)
    hits = (have @ wanted).astype(np.float64)
    return np.asarray(hits / np.maximum(wanted.sum(axis=0, dtype=np.float64), 1.0), dtype=np.float64)


def _holds_all(have: npt.NDArray[np.float32], wanted: npt.NDArray[np.float32]) -> BoolArray:
    if wanted.shape[0] == 0:
        return np.ones((have.shape[0], wanted.shape[1]), dtype=np.bool_)
    return np.asarray((have @ wanted) >= wanted.sum(axis=0) - 0.5)


def _eligible(enc: _Encoded, people: IntArray, roles: IntArray) -> BoolArray:
    ok = enc.consent[people][:, None] & (enc.party[people][:, None] | ~enc.party_only[roles][None, :])
    ok &= _holds_all(enc.has_skill[people], enc.req_skill[:, roles])
    ok &= _holds_all(enc.has_lang[people], enc.req_lang[:, roles])
    available = np.zeros_like(ok)
    for column in range(enc.windows.shape[1]):
        lo = enc.windows[people, column, 0][:, None]
        hi = enc.windows[people, column, 1][:, None]
        available |= (lo <= enc.span_lo[roles][None, :]) & (enc.span_hi[roles][None, :] <= hi)
    ok &= available
    for column in range(enc.busy.shape[1]):
        lo = enc.busy[people, column, 0][:, None]
        hi = enc.busy[people, column, 1][:, None]
        ok &= ~((lo < enc.ends[roles][None, :]) & (enc.starts[roles][None, :] < hi))
    ok &= enc.remaining[people][:, enc.role_month[roles]] > 0
    # Both index arrays are ascending (see _station_groups), so positions come from a binary search.
    for person, signed_up_roles in enc.signed_up.items():
        row = int(np.searchsorted(people, person))
        if row < len(people) and people[row] == person:
            for role in signed_up_roles:
                column = int(np.searchsorted(roles, role))
                if column < len(roles) and roles[column] == role:
                    ok[row, column] = False
    return ok


def _continuity(enc: _Encoded, people: IntArray, roles: Sequence[OpenRole], role_ids: IntArray) -> FloatArray:
    local = {int(person): row for row, person in enumerate(people)}
    share = np.zeros((len(people), len(role_ids)), dtype=np.float64)
    for column, role_index in enumerate(role_ids):
        wanted = roles[int(role_index)].resident_ids
        for resident in wanted:
            for person in enc.visitors.get(resident, ()):
                if (row := local.get(person)) is not None:
                    share[row, column] += 1.0
        if wanted:
            share[:, column] /= len(wanted)
    return share


def _scores(enc: _Encoded, people: IntArray, roles: Sequence[OpenRole], role_ids: IntArray) -> FloatArray:
    # Same terms, same order of additions as scoring.Terms.score, so the floats agree exactly.
    w = enc.weights
    language = _shares(enc.has_res[people], enc.res_lang[:, role_ids])
    extra = _shares(enc.has_pref[people], enc.pref_skill[:, role_ids])
    column = (slice(None), None)
    score: FloatArray = (
        w.filled_place
        + w.language * language
        + w.extra_skills * extra
        + w.fairness_recent * enc.recent[people][column]
        + w.fairness_load * enc.load[people][column]
        + w.reliability * enc.reliability[people][column]
        + w.continuity * _continuity(enc, people, roles, role_ids)
    )
    return score


def _station_groups(
    roles: Sequence[OpenRole], candidates: Sequence[Candidate]
) -> list[tuple[IntArray, IntArray]]:
    """(candidates, roles) blocks that can pair up: same station, or either side without one."""
    stations = np.array([-1 if c.station_id is None else c.station_id for c in candidates], dtype=np.int64)
    by_station: dict[int | None, list[int]] = defaultdict(list)
    for index, role in enumerate(roles):
        by_station[role.station_id].append(index)
    groups = []
    for station, role_ids in by_station.items():
        mask = (
            np.ones(len(candidates), dtype=np.bool_)
            if station is None
            else (stations == station) | (stations == -1)
        )
        groups.append((np.flatnonzero(mask).astype(np.int64), np.array(role_ids, dtype=np.int64)))
    return groups


def build_pairs(
    roles: Sequence[OpenRole], candidates: Sequence[Candidate], weights: Weights, *, now: datetime
) -> Pairs:
    empty = np.zeros(0, dtype=np.int64)
    chunks: list[tuple[IntArray, IntArray, FloatArray, IntArray]] = []
    if roles and candidates:
        enc = _Encoded(roles, candidates, weights, now)
        for people, role_ids in _station_groups(roles, candidates):
            rows, columns = np.nonzero(_eligible(enc, people, role_ids))
            if len(rows) == 0:
                continue
            score = _scores(enc, people, roles, role_ids)[rows, columns]
            person, role = people[rows], role_ids[columns]
            remaining = enc.remaining[person, enc.role_month[role]]
            chunks.append((person, role, score, remaining))
    if not chunks:
        return Pairs(empty, empty, np.zeros(0, dtype=np.float64), empty)
    person, role, score, remaining = (np.concatenate(parts) for parts in zip(*chunks, strict=True))
    order = np.lexsort((role, person))
    return Pairs(person[order], role[order], score[order], remaining[order])
