"""A supply link is made in one statement and a project moved between stages in one function
call: their rules in the database only.

- supply_link_rules() (BEFORE INSERT OR UPDATE, replacing supply_link_check_buyer): the segment
  belongs to the link's chain; the buyer holds the chain-master role (today for a live link, its
  role rows locked FOR SHARE so that a revocation waits for the link; ever for an ended one);
  no live twin (same supplier, buyer, chain and product). Each refusal names its constraint and
  carries, as JSON in its DETAIL, what the message names (the enterprises and the chain by name,
  the twin by id), so that the service words it without asking again. The unique index
  uq_supply_link_live stays the guard against a race.
- chain_master_role_locked(): the lock, as the owner (row-level security would hide the role
  rows of another unit from FOR SHARE, which needs the UPDATE policy).
- give_supplier_role(): an active link gives its supplier the supplier role in the chain unless
  it holds a live one; one at a time per enterprise and chain (an advisory lock); the new role
  begins after the last one ended. Called in the same statement as the insert or update.
- enterprise_of_key() and chain_of_key(): an enterprise by id or (normalized) credit code,
  following a merge; a chain by id or code: the workflow names them in its statement.
- move_project_stage(): a project moved to another stage on a day, with a reason and a note:
  locked, the rules of a move checked (not to the stage it is at; backwards, dropping or
  reviving needs a reason; not before the stage it leaves was reached, nor before its last
  move), the date columns set (the new stage keeps the date it was first reached on; the
  stages above it are emptied; dropping keeps them and sets dropped_on), the move recorded by
  project_record_stage() from the transaction-local settings. Returns the project. Refusals
  name a constraint and carry their particulars as JSON in DETAIL.

Revision ID: 2a6c8e0f4b17
Revises: 1d3f5b7a9c2e
Create Date: 2026-12-04 14:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "2a6c8e0f4b17"
down_revision: str | Sequence[str] | None = "1d3f5b7a9c2e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LABELS = """
CREATE FUNCTION enterprise_label_json(enterprise bigint) RETURNS json
LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
  SELECT json_build_object('id', enterprise, 'name', (SELECT e.name_zh FROM enterprise e
                                                       WHERE e.id = enterprise))
$$;
CREATE FUNCTION chain_label_json(in_chain bigint) RETURNS json
LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
  SELECT json_build_object('id', in_chain,
                           'code', (SELECT c.code FROM chain c WHERE c.id = in_chain),
                           'name', (SELECT c.name_zh FROM chain c WHERE c.id = in_chain))
$$;
"""

LOCK = """
CREATE FUNCTION chain_master_role_locked(enterprise bigint, in_chain bigint) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM 1 FROM chain_role r
   WHERE r.enterprise_id = enterprise AND r.chain_id = in_chain AND r.role = 'chain_master'
     AND role_held_on(r, current_date)
   FOR SHARE;
  RETURN FOUND;
END
$$
"""

RULES = """
CREATE FUNCTION supply_link_rules() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  live boolean := NEW.status <> 'ended';
  inserted boolean := TG_OP = 'INSERT';
  segment_chain bigint;
  held boolean;
  twin record;
BEGIN
  IF NEW.supplier_id IS NULL OR NEW.buyer_id IS NULL OR NEW.chain_id IS NULL THEN
    RETURN NEW;  -- the NOT NULL constraints refuse it, naming the column
  END IF;
  IF NEW.segment_id IS NOT NULL AND (inserted OR NEW.segment_id <> OLD.segment_id
                                      OR OLD.segment_id IS NULL OR NEW.chain_id <> OLD.chain_id) THEN
    SELECT s.chain_id INTO segment_chain FROM chain_segment s WHERE s.id = NEW.segment_id;
    IF segment_chain IS DISTINCT FROM NEW.chain_id THEN
      RAISE EXCEPTION 'supply link: segment % is not a segment of chain %',
                      NEW.segment_id, NEW.chain_id
        USING ERRCODE = 'foreign_key_violation',
              CONSTRAINT = 'fk_supply_link_segment_same_chain',
              TABLE = 'supply_link', COLUMN = 'segment_id',
              DETAIL = json_build_object('segment', NEW.segment_id,
                                         'exists', segment_chain IS NOT NULL,
                                         'chain', chain_label_json(NEW.chain_id))::text;
    END IF;
  END IF;
  -- A live link needs a buyer who is a chain master today; an ended one, a buyer who was.
  IF inserted OR NEW.buyer_id <> OLD.buyer_id OR NEW.chain_id <> OLD.chain_id
     OR NEW.status <> OLD.status THEN
    IF live THEN
      held := chain_master_role_locked(NEW.buyer_id, NEW.chain_id);
    ELSE
      held := holds_chain_master_role(NEW.buyer_id, NEW.chain_id, NULL);
    END IF;
    IF NOT held THEN
      RAISE EXCEPTION 'supply link: buyer % is not a chain master of chain %',
                      NEW.buyer_id, NEW.chain_id
        USING ERRCODE = 'check_violation', CONSTRAINT = 'supply_link_buyer_is_chain_master',
              TABLE = 'supply_link', COLUMN = 'buyer_id',
              DETAIL = json_build_object('buyer', enterprise_label_json(NEW.buyer_id),
                                         'chain', chain_label_json(NEW.chain_id),
                                         'live', live)::text;
    END IF;
  END IF;
  -- One live link per supplier, chain master, chain and product (no product counts as one).
  IF live AND (inserted OR (NEW.supplier_id, NEW.buyer_id, NEW.chain_id, NEW.product, NEW.status)
                           IS DISTINCT FROM
                           (OLD.supplier_id, OLD.buyer_id, OLD.chain_id, OLD.product, OLD.status)) THEN
    SELECT l.id, l.status INTO twin FROM supply_link l
     WHERE l.supplier_id = NEW.supplier_id AND l.buyer_id = NEW.buyer_id
       AND l.chain_id = NEW.chain_id AND l.product IS NOT DISTINCT FROM NEW.product
       AND l.status <> 'ended' AND l.id <> NEW.id
     LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION 'supply link: a live twin exists (supply link %)', twin.id
        USING ERRCODE = 'unique_violation', CONSTRAINT = 'uq_supply_link_live',
              TABLE = 'supply_link', COLUMN = 'supplier_id',
              DETAIL = json_build_object('link', twin.id, 'status', twin.status,
                                         'supplier', enterprise_label_json(NEW.supplier_id),
                                         'buyer', enterprise_label_json(NEW.buyer_id),
                                         'chain', chain_label_json(NEW.chain_id),
                                         'product', NEW.product)::text;
    END IF;
  END IF;
  RETURN NEW;
END
$$
"""

ROLE = """
CREATE FUNCTION give_supplier_role(enterprise bigint, in_chain bigint, segment bigint,
                                   begins date, source text) RETURNS bigint
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  start date := coalesce(begins, current_date);
  last_day date;
  made bigint;
BEGIN
  -- One request at a time per enterprise and chain: two links made at once for a new supplier
  -- would otherwise each insert its role and wait for the other (a deadlock).
  PERFORM pg_advisory_xact_lock(hashtextextended('supplier role ' || in_chain, enterprise));
  IF EXISTS (SELECT 1 FROM chain_role r
              WHERE r.enterprise_id = enterprise AND r.chain_id = in_chain
                AND r.role = 'supplier' AND role_not_ended(r, current_date)) THEN
    RETURN NULL;
  END IF;
  SELECT max(r.until) INTO last_day FROM chain_role r
   WHERE r.enterprise_id = enterprise AND r.chain_id = in_chain AND r.role = 'supplier';
  IF last_day IS NOT NULL AND start <= last_day THEN
    start := last_day + 1;
  END IF;
  INSERT INTO chain_role (enterprise_id, chain_id, segment_id, role, since, source)
  VALUES (enterprise, in_chain, segment, 'supplier', start, source)
  RETURNING id INTO made;
  RETURN made;
END
$$
"""

KEYS = """
CREATE FUNCTION enterprise_of_key(key text) RETURNS bigint
LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
  SELECT coalesce(
    (SELECT e.id FROM enterprise e WHERE length(key) = 18 AND e.uscc = key),
    (SELECT e.id FROM enterprise e
      WHERE e.id = CASE WHEN key ~ '^[0-9]{1,17}$' THEN key::bigint END),
    (SELECT m.into_id FROM enterprise_merge m
      WHERE m.merged_id = CASE WHEN key ~ '^[0-9]{1,17}$' THEN key::bigint END
         OR m.merged_uscc = key
      ORDER BY m.id DESC LIMIT 1))
$$;
CREATE FUNCTION chain_of_key(key text) RETURNS bigint
LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
  SELECT c.id FROM chain c
   WHERE c.id = CASE WHEN key ~ '^[0-9]{1,17}$' THEN key::bigint END
      OR (key !~ '^[0-9]{1,17}$' AND c.code = key)
$$;
"""

STAGE = """
CREATE FUNCTION move_project_stage(p_project bigint, p_stage text, p_on date, p_reason text,
                                   p_note text) RETURNS SETOF project
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  cur project;
  to_rank int := project_stage_rank(p_stage);
  from_rank int;
  floor_day date;
  floor_column text;
  last_move date;
BEGIN
  SELECT * INTO cur FROM project p WHERE p.id = p_project FOR UPDATE;
  IF NOT FOUND THEN
    IF EXISTS (SELECT 1 FROM project p WHERE p.id = p_project) THEN
      RAISE EXCEPTION 'project % may be read, not moved, by the acting unit', p_project
        USING ERRCODE = 'insufficient_privilege', TABLE = 'project';
    END IF;
    RAISE EXCEPTION 'no project %', p_project
      USING ERRCODE = 'no_data_found', TABLE = 'project', COLUMN = 'id';
  END IF;
  from_rank := project_stage_rank(cur.stage);
  IF p_stage = cur.stage THEN
    RAISE EXCEPTION 'project % is already at stage %', p_project, p_stage
      USING ERRCODE = 'check_violation', CONSTRAINT = 'project_move_changes_stage',
            TABLE = 'project', COLUMN = 'stage',
            DETAIL = json_build_object('stage', p_stage)::text;
  END IF;
  IF nullif(btrim(p_reason), '') IS NULL
     AND (p_stage = 'dropped' OR cur.stage = 'dropped' OR to_rank < from_rank) THEN
    RAISE EXCEPTION 'moving project % from % to % needs a reason', p_project, cur.stage, p_stage
      USING ERRCODE = 'check_violation', CONSTRAINT = 'project_move_has_reason',
            TABLE = 'project', COLUMN = 'stage',
            DETAIL = json_build_object('from_stage', cur.stage, 'to_stage', p_stage)::text;
  END IF;
  -- The latest day the project is known to have moved: the dates it keeps, in pipeline order,
  -- then its last recorded move (its creation does not count).
  SELECT d.day, d.col INTO floor_day, floor_column
    FROM (VALUES (1, cur.signed_on, 'signed_on'),
                 (2, cur.construction_started_on, 'construction_started_on'),
                 (3, cur.production_started_on, 'production_started_on'),
                 (4, cur.capacity_reached_on, 'capacity_reached_on'),
                 (5, cur.dropped_on, 'dropped_on')) AS d (n, day, col)
   WHERE d.day IS NOT NULL
   ORDER BY d.day DESC, d.n
   LIMIT 1;
  SELECT max(e.occurred_on) INTO last_move FROM project_stage_event e
   WHERE e.project_id = p_project AND e.from_stage IS NOT NULL;
  IF last_move IS NOT NULL AND (floor_day IS NULL OR last_move > floor_day) THEN
    floor_day := last_move;
    floor_column := NULL;
  END IF;
  IF floor_day IS NOT NULL AND p_on < floor_day THEN
    RAISE EXCEPTION 'project %: % is before %', p_project, p_on, floor_day
      USING ERRCODE = 'check_violation', CONSTRAINT = 'project_move_not_before_last',
            TABLE = 'project', COLUMN = 'stage',
            DETAIL = json_build_object('on', p_on, 'floor', floor_day,
                                       'column', floor_column)::text;
  END IF;
  PERFORM set_config('chaindb.stage_date', p_on::text, true),
          set_config('chaindb.stage_reason', coalesce(p_reason, ''), true),
          set_config('chaindb.stage_note', coalesce(p_note, ''), true);
  IF p_stage = 'dropped' THEN
    RETURN QUERY UPDATE project p SET stage = p_stage, dropped_on = p_on
                  WHERE p.id = p_project RETURNING p.*;
  ELSE
    RETURN QUERY
    UPDATE project p SET
      stage = p_stage,
      dropped_on = NULL,
      signed_on = CASE WHEN to_rank < 3 THEN NULL
                       WHEN to_rank = 3 THEN coalesce(p.signed_on, p_on) ELSE p.signed_on END,
      construction_started_on =
        CASE WHEN to_rank < 4 THEN NULL
             WHEN to_rank = 4 THEN coalesce(p.construction_started_on, p_on)
             ELSE p.construction_started_on END,
      production_started_on =
        CASE WHEN to_rank < 5 THEN NULL
             WHEN to_rank = 5 THEN coalesce(p.production_started_on, p_on)
             ELSE p.production_started_on END,
      capacity_reached_on =
        CASE WHEN to_rank < 6 THEN NULL
             WHEN to_rank = 6 THEN coalesce(p.capacity_reached_on, p_on)
             ELSE p.capacity_reached_on END
    WHERE p.id = p_project RETURNING p.*;
  END IF;
  PERFORM set_config('chaindb.stage_date', '', true),
          set_config('chaindb.stage_reason', '', true),
          set_config('chaindb.stage_note', '', true);
END
$$
"""

FUNCTIONS = (LABELS, LOCK, RULES, ROLE, KEYS, STAGE)
NAMES = (
    "enterprise_label_json(bigint)",
    "chain_label_json(bigint)",
    "chain_master_role_locked(bigint, bigint)",
    "supply_link_rules()",
    "give_supplier_role(bigint, bigint, bigint, date, text)",
    "enterprise_of_key(text)",
    "chain_of_key(text)",
    "move_project_stage(bigint, text, date, text, text)",
)

OLD_CHECK = """
CREATE FUNCTION supply_link_check_buyer() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      -- A live link needs a buyer who is a chain master now; an ended one, a buyer who was.
      IF NOT holds_chain_master_role(NEW.buyer_id, NEW.chain_id,
                                     CASE WHEN NEW.status = 'ended' THEN NULL
                                          ELSE current_date END) THEN
        RAISE EXCEPTION 'supply link: buyer % is not a chain master of chain %',
                        NEW.buyer_id, NEW.chain_id
          USING ERRCODE = 'check_violation', CONSTRAINT = 'supply_link_buyer_is_chain_master',
                TABLE = 'supply_link', COLUMN = 'buyer_id';
      END IF;
      RETURN NEW;
    END
    $$
"""


def upgrade() -> None:
    op.execute("DROP TRIGGER supply_link_check_buyer ON supply_link")
    op.execute("DROP FUNCTION supply_link_check_buyer()")
    for sql in FUNCTIONS:
        op.execute(sql)
    op.execute(
        "CREATE TRIGGER supply_link_rules BEFORE INSERT OR UPDATE ON supply_link "
        "FOR EACH ROW EXECUTE FUNCTION supply_link_rules()"
    )
    op.execute(
        "COMMENT ON FUNCTION give_supplier_role(bigint, bigint, bigint, date, text) IS "
        "'The supplier role an active supply link gives (none when the enterprise holds a live "
        "one): called with the link in the same statement (chaindb/supply/service.py)'"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER supply_link_rules ON supply_link")
    for name in reversed(NAMES):
        op.execute(f"DROP FUNCTION {name}")
    op.execute(OLD_CHECK)
    op.execute(
        "CREATE TRIGGER supply_link_check_buyer BEFORE INSERT OR UPDATE OF buyer_id, chain_id, "
        "status ON supply_link FOR EACH ROW EXECUTE FUNCTION supply_link_check_buyer()"
    )
