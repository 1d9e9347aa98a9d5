"""place_signup: a new sign-up's locks, checks and writes in one server-side call (PostgreSQL)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 03:40:00.000000

``events.placing`` says why: the role's lock is held only while the server runs the procedure,
never across a round trip to the application. SQLite has neither procedures nor row locks; its
sign-ups write one statement at a time inside ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What the rules of a new sign-up read, as one string: the role's requirements, the person's
# station, state, Party membership, monthly maximum and terms, and the person's commitments (the
# sign-ups ``signup_rules._person_commitments_statement`` selects: any live one for the event,
# the confirmed ones of other events, not cancelled, overlapping the window). Equal strings at two
# moments mean every rule would answer the same at both. PL/pgSQL, not SQL: a SQL function that
# is not inlined (this one is not, having subqueries) is planned again at every call, 0.6 ms of
# the server's time against a few µs for PL/pgSQL's plan, kept per connection.
RULES_SEEN = """
CREATE FUNCTION signup_rules_seen(
    p_role_id integer, p_person_id integer, p_event_id integer,
    p_window_start timestamptz, p_window_end timestamptz
) RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN format(
        '%s|%s|%s|%s',
        (SELECT format('%s:%s:%s', r.skills::text, r.languages::text, r.party_members_only)
           FROM event_roles AS r WHERE r.id = p_role_id),
        (SELECT format('%s:%s:%s:%s', p.station_id, p.is_active, p.is_party_member,
                       p.max_events_per_month)
           FROM people AS p WHERE p.id = p_person_id),
        (SELECT string_agg(t.kind || ':' || t.code, ',' ORDER BY t.kind, t.code)
           FROM person_terms AS t WHERE t.person_id = p_person_id),
        (SELECT string_agg(format('%s:%s:%s:%s', s.id, s.status, e.starts_at, e.ends_at), ','
                           ORDER BY s.id)
           FROM signups AS s JOIN events AS e ON e.id = s.event_id
          WHERE s.person_id = p_person_id
            AND ((s.event_id = p_event_id AND s.status IN ('confirmed', 'waitlisted', 'invited'))
                 OR (s.status = 'confirmed' AND e.status <> 'cancelled'
                     AND e.starts_at < p_window_end AND e.ends_at > p_window_start))));
END
$$
"""

# Lock the role (NO KEY: sign-ups' foreign-key checks on it pass), then the person: the lock
# order of every path (``waitlist``). Each statement of a procedure reads with a snapshot of its
# own, taken after the locks: the rules' string, the invitations and the role's counts are those
# every earlier holder of the role's lock committed. With ``p_commit`` (the caller has no
# transaction open) the procedure commits, so the locks end with it.
PLACE_SIGNUP = """
CREATE PROCEDURE place_signup(
    p_role_id integer, p_person_id integer, p_event_id integer, p_station_id integer,
    p_source varchar, p_now timestamptz, p_window_start timestamptz, p_window_end timestamptz,
    p_seen text, p_commit boolean,
    INOUT placed_outcome varchar DEFAULT NULL, INOUT placed_id integer DEFAULT NULL,
    INOUT placed_status varchar DEFAULT NULL, INOUT placed_seq integer DEFAULT NULL,
    INOUT placed_position integer DEFAULT NULL, INOUT role_confirmed integer DEFAULT NULL,
    INOUT role_waitlisted integer DEFAULT NULL, INOUT role_next_seq integer DEFAULT NULL
) LANGUAGE plpgsql AS $$
DECLARE
    claimed event_roles%ROWTYPE;
    invited integer;
BEGIN
    SELECT * INTO claimed FROM event_roles AS r
     WHERE r.id = p_role_id AND r.removed_at IS NULL FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        placed_outcome := 'no_role';
    ELSE
        PERFORM FROM people AS p WHERE p.id = p_person_id FOR UPDATE;
        IF NOT FOUND THEN
            placed_outcome := 'no_person';
        ELSIF signup_rules_seen(p_role_id, p_person_id, p_event_id, p_window_start, p_window_end)
              IS DISTINCT FROM p_seen THEN
            placed_outcome := 'stale';
        ELSE
            SELECT count(*) INTO invited FROM signups AS s
             WHERE s.role_id = p_role_id AND s.status = 'invited';
            IF claimed.count - claimed.confirmed_count - invited > 0 THEN
                placed_status := 'confirmed';
            ELSE
                placed_status := 'waitlisted';
                placed_seq := claimed.next_waitlist_seq;
                placed_position := claimed.waitlisted_count + 1;
            END IF;
            INSERT INTO signups AS s (event_id, role_id, person_id, status, source, waitlist_seq,
                                      created_at, updated_at, confirmed_at)
            VALUES (p_event_id, p_role_id, p_person_id, placed_status, p_source, placed_seq,
                    p_now, p_now, CASE WHEN placed_status = 'confirmed' THEN p_now END)
            RETURNING s.id INTO placed_id;
            UPDATE event_roles AS r
               SET next_waitlist_seq = r.next_waitlist_seq + 1,
                   confirmed_count = r.confirmed_count + (placed_status = 'confirmed')::integer,
                   waitlisted_count = r.waitlisted_count + (placed_status = 'waitlisted')::integer
             WHERE r.id = p_role_id
            RETURNING r.confirmed_count, r.waitlisted_count, r.next_waitlist_seq
              INTO role_confirmed, role_waitlisted, role_next_seq;
            INSERT INTO outbox_events (event_type, aggregate_type, aggregate_id, station_id,
                                       payload, occurred_at, fanned_out)
            VALUES (CASE WHEN placed_status = 'confirmed' THEN 'SignupConfirmed'
                         ELSE 'SignupWaitlisted' END,
                    'signup', placed_id, p_station_id,
                    json_build_object('signup_id', placed_id, 'event_id', p_event_id,
                                      'role_id', p_role_id, 'person_id', p_person_id,
                                      'status', placed_status, 'source', p_source),
                    p_now, false);
            placed_outcome := 'placed';
        END IF;
    END IF;
    IF p_commit THEN
        COMMIT;
    END IF;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(RULES_SEEN)
    op.execute(PLACE_SIGNUP)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP PROCEDURE place_signup")
    op.execute("DROP FUNCTION signup_rules_seen")
