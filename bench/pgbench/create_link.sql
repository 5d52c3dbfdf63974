-- POST /api/v1/chain-masters/{buyer}/suppliers, reduced to its write: one transaction that
-- stamps the actor and request id for the change-log trigger (chaindb/api/__init__.py _stamp)
-- and inserts the link, returning SupplyLinkRead's columns (chaindb/supply/service.py
-- link_supplier). chaindb's endpoint also runs the lookups around it (the chain master, the chain
-- and the supplier by id, the chain-master role locked FOR UPDATE, the supplier's live role),
-- which are not repeated here.
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
SELECT set_config('chaindb.actor', 'bench', true), set_config('chaindb.request_id', 'pgbench-' || :run::text || '-' || :client_id::text || '-' || :n::text, true);
INSERT INTO supply_link (supplier_id, buyer_id, chain_id, segment_id, product, annual_value_cny_10k, since, until, status, reported_by, verified, verified_at, notes)
  VALUES (:supplier, :buyer, :chain, NULL, 'bench-pgbench-' || :run::text || '-' || :client_id::text || '-' || :n::text, 120.5, '2026-01-01', NULL, 'active', NULL, false, NULL, NULL)
  RETURNING supply_link.id, supply_link.created_at, supply_link.updated_at, supply_link.supplier_id, supply_link.buyer_id, supply_link.chain_id, supply_link.segment_id, supply_link.product, supply_link.annual_value_cny_10k, supply_link.since, supply_link.until, supply_link.status, supply_link.reported_by, supply_link.verified, supply_link.verified_at, supply_link.notes;
COMMIT;
