-- GET /api/v1/projects/{id}, as chaindb runs it (autocommit, one statement), for an id drawn
-- at random from first_id .. first_id + 9999 (wrk's read_project.lua cycles through the same range).
-- Variables: first_id (-D first_id=ID).
\set id random(:first_id, :first_id + 9999)
SELECT name, segment_id, investor_name, kind, parent_id, lead_id, channel, agreed_investment_cny_100m, funds_arrived_cny_100m, capital_origin, foreign_capital_usd_10k, first_phase_investment_cny_100m, fixed_asset_investment_cny_100m, stage, signed_on, agreed_start_on, construction_started_on, production_started_on, capacity_reached_on, dropped_on, is_key, responsible_unit, responsible_person, contact_phone, source, notes, id, created_at, updated_at, chain_id, district_id, investor_id, chain_master_id, size_class, review_status
  FROM project WHERE project.id = :id;
