-- POST /api/v1/chain-masters/{buyer}/suppliers, reduced to what it sends the database
-- (chaindb/supply/service.py create_link, chaindb/db.py Database.one_statement): the acting
-- settings (the role row-level security applies to, the city bureau's unit, the actor and the
-- request id for the change-log trigger), then one statement that inserts the link, its three
-- names resolved by enterprise_of_key() and chain_of_key(), and gives the supplier its role
-- (give_supplier_role()), returning SupplyLinkRead's columns. chaindb sends both in one
-- pipeline, which the server runs as one transaction; pgbench sends BEGIN and COMMIT around them.
-- Variables: chain, buyer, first_supplier, run (unique per pgbench run), n (-D n=0; a counter
-- per client, kept between transactions).
-- The supplier cycles through first_supplier .. first_supplier + 4999, skipping the buyer, as
-- bench/wrk/create_link.lua does; the product is unique per transaction (run, client, counter),
-- so every link is new and uq_supply_link_live never refuses one.
\set n :n + 1
\set supplier :first_supplier + (:n % 5000)
\if :supplier = :buyer
\set supplier :supplier + 5000
\endif
BEGIN;
SELECT set_config('role', 'chaindb_app', true), set_config('chaindb.unit_id', (SELECT min(id) FROM unit WHERE kind = 'city')::text, true), set_config('chaindb.actor', 'bench', true), set_config('chaindb.request_id', 'pgbench-' || :run::text || '-' || :client_id::text || '-' || :n::text, true);
WITH link AS (INSERT INTO supply_link (supplier_id, buyer_id, chain_id, segment_id, product, annual_value_cny_10k, since, until, status, reported_by, verified, verified_at, notes)
  VALUES (enterprise_of_key(:supplier::text), enterprise_of_key(:buyer::text), chain_of_key(:chain::text), NULL, 'bench-pgbench-' || :run::text || '-' || :client_id::text || '-' || :n::text, 120.5, '2026-01-01', NULL, 'active', NULL, false, NULL, NULL)
  RETURNING supply_link.id, supply_link.created_at, supply_link.updated_at, supply_link.supplier_id, supply_link.buyer_id, supply_link.chain_id, supply_link.segment_id, supply_link.product, supply_link.annual_value_cny_10k, supply_link.since, supply_link.until, supply_link.status, supply_link.reported_by, supply_link.verified, supply_link.verified_at, supply_link.notes)
  SELECT link.*, CASE WHEN link.status = 'active' THEN give_supplier_role(link.supplier_id, link.chain_id, link.segment_id, link.since, concat('supply link ', link.id)) END AS supplier_role_id FROM link;
COMMIT;
