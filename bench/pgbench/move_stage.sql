-- POST /api/v1/projects/{id}/stage, reduced to its write: one transaction that stamps the actor
-- and request id for the change log and calls move_project_stage() (chaindb/projects/service.py
-- move_stage), which locks the project, checks the move and updates it; its trigger records the
-- move. Each client moves its own per_client projects (from first_stage on) to signed and back
-- to negotiating on its next pass, as bench/wrk/move_stage.lua does.
-- Variables: first_stage, per_client, run, n (-D n=0; a counter per client).
\set m :n
\set n :n + 1
\set project :first_stage + :client_id * :per_client + (:m % :per_client)
\set phase (:m / :per_client) % 2
BEGIN;
SELECT set_config('chaindb.actor', 'bench', true), set_config('chaindb.request_id', 'pgbench-' || :run::text || '-' || :client_id::text || '-' || :n::text, true);
SELECT id FROM move_project_stage(:project, CASE WHEN :phase = 0 THEN 'signed' ELSE 'negotiating' END, current_date, 'bench', NULL);
COMMIT;
