"""The integer program of one solve, over any subset of the eligible pairs (columns).

maximize   Σ score_j · x_j  +  party_quota · Σ_e z_e
subject to Σ_{j ∈ role r} x_j ≤ open places of r                       (role rows)
           Σ_{j of person p whose event contains instant t} x_j ≤ 1    (time rows: p, each start t)
           Σ_{j of person p in month m} x_j ≤ events p may still take in m   (month rows)
           z_e − Σ_{j at event e, person a Party member} x_j ≤ 0          (quota rows)
           x_j ∈ {0, 1},  0 ≤ z_e ≤ Party-member quota of e
Two intervals overlap exactly when one contains the other's start, so the time rows say both "one
role per event" and "no two overlapping events"; at the optimum z_e counts up to e's quota only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import csr_array

from coordinator.matching.model import Candidate, OpenRole, Weights
from coordinator.matching.pairs import BoolArray, FloatArray, IntArray, Pairs

# Below this the solver's floating-point noise, not a better matching.
EPSILON = 1e-7
INTEGRALITY = 1e-6
# Relative distance to the bound at which a matching counts as optimal.
TOLERANCE = 1e-9


@dataclass(frozen=True)
class TimeRow:
    person: int
    instant: float
    columns: tuple[int, ...]


class Problem:
    """Static data of all pairs, in the pairs' order (by person, then role)."""

    def __init__(
        self, roles: Sequence[OpenRole], candidates: Sequence[Candidate], pairs: Pairs, weights: Weights
    ) -> None:
        self.pairs = pairs
        events: dict[int, int] = {}
        role_event = np.array([events.setdefault(r.event_id, len(events)) for r in roles], dtype=np.int64)
        months: dict[tuple[int, int], int] = {}
        role_month = np.array([months.setdefault(r.month, len(months)) for r in roles], dtype=np.int64)
        self.capacity = np.array([r.open_places for r in roles], dtype=np.int64)
        self.quota = np.zeros(len(events), dtype=np.int64)
        for index, role in enumerate(roles):
            event = role_event[index]
            self.quota[event] = max(self.quota[event], role.party_member_quota)
        self.party_weight = weights.party_quota
        self.quota_events = np.flatnonzero(self.quota > 0) if self.party_weight > 0 else np.zeros(0, np.int64)

        self.event = role_event[pairs.role]
        self.month = role_month[pairs.role]
        self.start = np.array([r.starts_at.timestamp() for r in roles], dtype=np.float64)[pairs.role]
        self.end = np.array([r.ends_at.timestamp() for r in roles], dtype=np.float64)[pairs.role]
        party = np.array([c.is_party_member for c in candidates], dtype=np.bool_)
        self.party: BoolArray = party[pairs.person]
        # Pairs of person p are pairs[first[p]:first[p + 1]].
        self.first = np.searchsorted(pairs.person, np.arange(len(candidates) + 1))

    def top_per_role(self, value: FloatArray, mask: BoolArray, limit: IntArray) -> IntArray:
        """Columns among ``mask`` with the highest ``value``, at most ``limit[role]`` per role."""
        candidates = np.flatnonzero(mask)
        roles = self.pairs.role[candidates]
        order = np.lexsort((-value[candidates], roles))
        ranked, ranked_roles = candidates[order], roles[order]
        starts = np.searchsorted(ranked_roles, ranked_roles, side="left")
        rank = np.arange(len(ranked)) - starts
        return np.sort(ranked[rank < limit[ranked_roles]])

    def value(self, chosen: IntArray) -> float:
        """The objective of a set of columns."""
        total = float(self.pairs.score[chosen].sum())
        if len(self.quota_events):
            party_at = np.bincount(self.event[chosen][self.party[chosen]], minlength=len(self.quota))
            total += self.party_weight * float(np.minimum(party_at, self.quota)[self.quota_events].sum())
        return total


@dataclass
class Duals:
    """Prices (≥ 0) of the rows of a restricted problem, for pricing every pair."""

    role: FloatArray  # per role
    quota: FloatArray  # per event
    time: list[tuple[TimeRow, float]]
    month: list[tuple[int, int, float]]  # (person, month, price)
    rhs_value: float  # Σ price × right-hand side


class Master:
    """The program restricted to some columns: its rows are those the columns take part in."""

    def __init__(self, problem: Problem, columns: IntArray) -> None:
        self.problem = problem
        self.columns = columns
        self.time_rows = self._time_rows()
        self.month_rows = self._month_rows()
        self.roles = np.unique(problem.pairs.role[columns])
        self._build()

    def _time_rows(self) -> list[TimeRow]:
        p = self.problem
        rows: list[TimeRow] = []
        people = p.pairs.person[self.columns]
        bounds = np.flatnonzero(np.diff(people)) + 1
        for group in np.split(np.arange(len(self.columns)), bounds):
            if len(group) < 2:
                continue
            starts, ends = p.start[self.columns[group]], p.end[self.columns[group]]
            seen: set[tuple[int, ...]] = set()
            for instant in np.unique(starts):
                members = tuple(int(i) for i in group[(starts <= instant) & (instant < ends)])
                if len(members) > 1 and members not in seen:
                    seen.add(members)
                    rows.append(TimeRow(int(people[group[0]]), float(instant), members))
        return rows

    def _month_rows(self) -> list[tuple[int, int, int, IntArray]]:
        """(person, month, remaining, local columns) where the columns exceed what remains."""
        p = self.problem
        person, month = p.pairs.person[self.columns], p.month[self.columns]
        remaining = p.pairs.remaining[self.columns]
        keys = person * (int(month.max(initial=0)) + 1) + month
        order = np.argsort(keys, kind="stable")
        rows = []
        for group in np.split(order, np.flatnonzero(np.diff(keys[order])) + 1):
            cap = int(remaining[group].min())
            if len(group) > cap:
                rows.append((int(person[group[0]]), int(month[group[0]]), cap, group))
        return rows

    def _build(self) -> None:
        p, n = self.problem, len(self.columns)
        quota_events = p.quota_events
        role_row = {int(r): i for i, r in enumerate(self.roles)}
        rows = [role_row[int(r)] for r in p.pairs.role[self.columns]]
        cols, vals = list(range(n)), [1.0] * n
        rhs = [float(c) for c in p.capacity[self.roles]]
        for row in self.time_rows:
            rows.extend([len(rhs)] * len(row.columns))
            cols.extend(row.columns)
            vals.extend([1.0] * len(row.columns))
            rhs.append(1.0)
        for _, _, cap, group in self.month_rows:
            rows.extend([len(rhs)] * len(group))
            cols.extend(int(i) for i in group)
            vals.extend([1.0] * len(group))
            rhs.append(float(cap))
        self.quota_row0 = len(rhs)
        event_row = {int(e): i for i, e in enumerate(quota_events)}
        for local in np.flatnonzero(p.party[self.columns]):
            if (quota_row := event_row.get(int(p.event[self.columns[local]]))) is not None:
                rows.append(self.quota_row0 + quota_row)
                cols.append(int(local))
                vals.append(-1.0)
        for offset in range(len(quota_events)):
            rows.append(self.quota_row0 + offset)
            cols.append(n + offset)
            vals.append(1.0)
            rhs.append(0.0)
        size = (len(rhs), n + len(quota_events))
        self.matrix = csr_array((vals, (rows, cols)), shape=size)
        self.rhs = np.array(rhs, dtype=np.float64)
        self.cost = -np.concatenate([p.pairs.score[self.columns], np.full(len(quota_events), p.party_weight)])
        self.upper = np.concatenate([np.ones(n), p.quota[quota_events].astype(np.float64)])

    def relax(self) -> tuple[Duals, IntArray | None]:
        """Solve the linear relaxation: its row prices, and its columns at 1 if it is integral."""
        bounds = np.column_stack([np.zeros(len(self.upper)), self.upper])
        result = linprog(self.cost, A_ub=self.matrix, b_ub=self.rhs, bounds=bounds, method="highs")
        if result.status != 0:
            raise RuntimeError(f"matching LP failed: {result.message}")
        x = np.asarray(result.x[: len(self.columns)], dtype=np.float64)
        integral = bool(np.all(np.abs(x - np.round(x)) <= INTEGRALITY))
        prices = np.maximum(-np.asarray(result.ineqlin.marginals, dtype=np.float64), 0.0)
        return self._duals(prices), self.columns[x > 0.5] if integral else None

    def _duals(self, prices: FloatArray) -> Duals:
        p = self.problem
        role = np.zeros(len(p.capacity))
        role[self.roles] = prices[: len(self.roles)]
        offset = len(self.roles)
        time = [
            (r, float(prices[offset + i])) for i, r in enumerate(self.time_rows) if prices[offset + i] > 0
        ]
        offset += len(self.time_rows)
        month = [
            (person, m, float(prices[offset + i]))
            for i, (person, m, _, _) in enumerate(self.month_rows)
            if prices[offset + i] > 0
        ]
        quota = np.zeros(len(p.quota))
        quota[p.quota_events] = prices[self.quota_row0 :]
        return Duals(role, quota, time, month, float(prices @ self.rhs))

    def best(self) -> IntArray:
        """The optimal integer solution of the restricted program, as columns (pair indices)."""
        n = len(self.columns)
        integrality = np.concatenate([np.ones(n), np.zeros(len(self.upper) - n)])
        result = milp(
            self.cost,
            integrality=integrality,
            bounds=Bounds(np.zeros(len(self.upper)), self.upper),
            constraints=LinearConstraint(self.matrix, -np.inf, self.rhs),
            options={"mip_rel_gap": 0.0},
        )
        if result.x is None:
            raise RuntimeError(f"matching MIP failed: {result.message}")
        chosen: npt.NDArray[np.bool_] = np.asarray(result.x[:n]) > 0.5
        return self.columns[chosen]


def reduced_costs(problem: Problem, duals: Duals) -> FloatArray:
    """score − Σ prices of the rows a pair would take part in, for every pair."""
    p = problem
    rc = p.pairs.score - duals.role[p.pairs.role] + np.where(p.party, duals.quota[p.event], 0.0)
    for row, price in duals.time:
        part = slice(p.first[row.person], p.first[row.person + 1])
        inside = (p.start[part] <= row.instant) & (row.instant < p.end[part])
        rc[part] -= np.where(inside, price, 0.0)
    for person, month, price in duals.month:
        part = slice(p.first[person], p.first[person + 1])
        rc[part] -= np.where(p.month[part] == month, price, 0.0)
    return rc


def upper_bound(problem: Problem, duals: Duals, rc: FloatArray) -> float:
    """Lagrangian bound: for prices y ≥ 0, any feasible matching scores at most
    y·b + Σ_j max(0, rc_j) + Σ_e quota_e · max(0, party_quota − y_e)."""
    p = problem
    quota_gain = p.quota[p.quota_events] * np.maximum(0.0, p.party_weight - duals.quota[p.quota_events])
    return duals.rhs_value + float(np.maximum(rc, 0.0).sum()) + float(quota_gain.sum())
