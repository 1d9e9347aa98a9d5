"""Propose who fills each open role: ``solve`` (optimal) and ``greedy`` (the baseline).

``solve`` maximizes the integer program of ``problem.py`` (pair scores from ``scoring.py`` plus the
Party-member quota term, under every rule of ``constraints.eligible``) by column generation: a
restricted program over the best pairs of each role is relaxed to a linear program (HiGHS via
SciPy) whose row prices admit pairs of positive reduced cost until none is left and then give the
Lagrangian bound U. The restricted integer program is solved exactly (zero gap), scoring V; no
pair with reduced cost below −(U − V) can beat V, so adding every pair at or above that line and
solving once more proves the optimum over all pairs. ``bound`` is U; ``objective`` equals the
optimum up to the solver's floating-point tolerance (~1e-6)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

import numpy as np

from coordinator.matching.model import Candidate, Labels, MatchResult, OpenRole, Proposal, Weights
from coordinator.matching.pairs import IntArray, Pairs, build_pairs
from coordinator.matching.problem import EPSILON, TOLERANCE, Master, Problem, reduced_costs, upper_bound
from coordinator.matching.scoring import PARTY_QUOTA_REASON, pair_reasons

# Pairs per role to start from, as a multiple of its open places (plus a few), and to add per round.
START_FACTOR, START_EXTRA = 3, 4
ROUND_FACTOR, ROUND_EXTRA = 1, 2
MAX_ROUNDS = 50


def solve(
    roles: Sequence[OpenRole],
    candidates: Sequence[Candidate],
    weights: Weights | None = None,
    *,
    now: datetime,
    labels: Labels | None = None,
) -> MatchResult:
    """The matching of highest objective under the hard constraints (see the module docstring)."""
    pairs, problem = _problem(roles, candidates, weights, now)
    if len(pairs) == 0:
        return _result(roles, candidates, problem, np.zeros(0, np.int64), now, labels, bound=0.0)
    in_use = np.zeros(len(pairs), dtype=np.bool_)
    in_use[problem.top_per_role(pairs.score, ~in_use, problem.capacity * START_FACTOR + START_EXTRA)] = True
    for _ in range(MAX_ROUNDS):
        duals, integral = Master(problem, np.flatnonzero(in_use)).relax()
        rc = reduced_costs(problem, duals)
        entering = (rc > EPSILON) & ~in_use
        if not entering.any():
            break
        in_use[problem.top_per_role(rc, entering, problem.capacity * ROUND_FACTOR + ROUND_EXTRA)] = True
    bound = upper_bound(problem, duals, rc)
    # An integral relaxation is already the restricted optimum; otherwise branch and bound.
    chosen = integral if integral is not None else Master(problem, np.flatnonzero(in_use)).best()
    gap = bound - problem.value(chosen)
    if gap > TOLERANCE * max(1.0, abs(bound)):
        # Only pairs with reduced cost above −gap can be part of a better matching.
        chosen = Master(problem, np.flatnonzero(in_use | (rc > -gap - EPSILON))).best()
    return _result(roles, candidates, problem, chosen, now, labels, bound=bound)


def greedy(
    roles: Sequence[OpenRole],
    candidates: Sequence[Candidate],
    weights: Weights | None = None,
    *,
    now: datetime,
    labels: Labels | None = None,
) -> MatchResult:
    """Highest pair score first, keeping every hard constraint; blind to the Party-member quota."""
    pairs, problem = _problem(roles, candidates, weights, now)
    chosen = _greedy_columns(pairs, problem)
    return _result(roles, candidates, problem, chosen, now, labels, bound=None)


def _problem(
    roles: Sequence[OpenRole], candidates: Sequence[Candidate], weights: Weights | None, now: datetime
) -> tuple[Pairs, Problem]:
    """The feasible person-role pairs and the problem over them, as both solvers start."""
    weights = weights or Weights()
    pairs = build_pairs(roles, candidates, weights, now=now)
    return pairs, Problem(roles, candidates, pairs, weights)


def _greedy_columns(pairs: Pairs, problem: Problem) -> IntArray:
    left = problem.capacity.copy()
    taken: dict[int, list[int]] = defaultdict(list)
    in_month: dict[tuple[int, int], int] = defaultdict(int)
    chosen: list[int] = []
    # Ties go to the earlier person and role, so the baseline is deterministic.
    for j in np.lexsort((pairs.role, pairs.person, -pairs.score)).tolist():
        role, person, month = int(pairs.role[j]), int(pairs.person[j]), int(problem.month[j])
        if left[role] == 0 or in_month[person, month] >= pairs.remaining[j]:
            continue
        start, end = problem.start[j], problem.end[j]
        if any(problem.start[k] < end and start < problem.end[k] for k in taken[person]):
            continue
        left[role] -= 1
        taken[person].append(j)
        in_month[person, month] += 1
        chosen.append(j)
    return np.array(sorted(chosen), dtype=np.int64)


def _result(
    roles: Sequence[OpenRole],
    candidates: Sequence[Candidate],
    problem: Problem,
    chosen: IntArray,
    now: datetime,
    labels: Labels | None,
    *,
    bound: float | None,
) -> MatchResult:
    pairs = problem.pairs
    counts_toward_quota = _quota_counted(problem, chosen)
    proposals = []
    for j in sorted(chosen.tolist(), key=lambda j: (int(pairs.role[j]), -float(pairs.score[j]))):
        role, candidate = roles[int(pairs.role[j])], candidates[int(pairs.person[j])]
        reasons = pair_reasons(candidate, role, now=now, labels=labels)
        if j in counts_toward_quota:
            reasons.insert(0, PARTY_QUOTA_REASON)
        proposals.append(
            Proposal(role.event_id, role.role_id, candidate.person_id, float(pairs.score[j]), reasons)
        )
    filled = np.bincount(pairs.role[chosen], minlength=len(roles))
    unfilled = {role.role_id: role.open_places - int(filled[i]) for i, role in enumerate(roles)}
    return MatchResult(proposals, unfilled, problem.value(chosen), bound)


def _quota_counted(problem: Problem, chosen: IntArray) -> set[int]:
    """The Party members who earn the quota term: the best-scoring ones up to each quota."""
    counted: set[int] = set()
    seen: dict[int, int] = defaultdict(int)
    pairs = problem.pairs
    for j in sorted(chosen.tolist(), key=lambda j: -float(pairs.score[j])):
        event = int(problem.event[j])
        if problem.party[j] and seen[event] < problem.quota[event] and problem.party_weight > 0:
            seen[event] += 1
            counted.add(j)
    return counted
