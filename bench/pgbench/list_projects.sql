-- GET /api/v1/projects?chain_id=:chain&limit=50, as chaindb runs it: the total count, then
-- the page (every column of ProjectRead, in the order chaindb selects them). Reads run in
-- autocommit in chaindb (chaindb/db.py, the read pool): no BEGIN/ROLLBACK here either.
-- Variables: chain (-D chain=ID).
SELECT count(*) AS count_1 FROM project WHERE project.chain_id = :chain;
SELECT name, segment_id, investor_name, kind, parent_id, lead_id, channel, agreed_investment_cny_100m, funds_arrived_cny_100m, capital_origin, foreign_capital_usd_10k, first_phase_investment_cny_100m, fixed_asset_investment_cny_100m, stage, signed_on, agreed_start_on, construction_started_on, production_started_on, capacity_reached_on, dropped_on, is_key, responsible_unit, responsible_person, contact_phone, source, notes, id, created_at, updated_at, chain_id, district_id, investor_id, chain_master_id, size_class, review_status
  FROM project WHERE project.chain_id = :chain
  ORDER BY project.id ASC NULLS LAST LIMIT 50 OFFSET 0;
