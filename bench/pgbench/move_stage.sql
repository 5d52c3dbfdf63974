-- POST /api/v1/projects/{id}/stage, reduced to what it sends the database: the acting settings
-- (the role row-level security applies to, the city bureau's unit, the actor and request id for
-- the change log) and a call of move_project_stage() (chaindb/projects/service.py move_stage),
-- which locks the project, checks the move and updates it; its trigger records the move.
-- chaindb sends both in one pipeline (chaindb/db.py Database.one_statement), one transaction;
-- pgbench sends BEGIN and COMMIT around them. Each client moves its own per_client projects
-- (from first_stage on) to signed and back to negotiating on its next pass, as
-- bench/wrk/move_stage.lua does.
-- Variables: first_stage, per_client, run, n (-D n=0; a counter per client).
\set m :n
\set n :n + 1
\set project :first_stage + :client_id * :per_client + (:m % :per_client)
\set phase (:m / :per_client) % 2
BEGIN;
SELECT set_config('role', 'chaindb_app', true), set_config('chaindb.unit_id', (SELECT min(id) FROM unit WHERE kind = 'city')::text, true), set_config('chaindb.actor', 'bench', true), set_config('chaindb.request_id', 'pgbench-' || :run::text || '-' || :client_id::text || '-' || :n::text, true);
SELECT id FROM move_project_stage(:project, CASE WHEN :phase = 0 THEN 'signed' ELSE 'negotiating' END, current_date, 'bench', NULL);
COMMIT;
