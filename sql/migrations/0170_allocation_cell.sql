-- The allocation's cell, defined once (docs/finance.md "How a month is allocated"): hour x workspace x API key x
-- model x service tier x context window x inference geo x speed, the grain at which the Admin API is the
-- authority. Every join between application events and Admin API usage is on ledger_cell(...) (and the token
-- type), so none can leave a dimension out: cells that differ only by inference geo or speed stay apart.
-- Privilege on a ClickHouse server: as migration 0070 (CREATE FUNCTION).
CREATE OR REPLACE FUNCTION ledger_cell AS (hour, workspace_id, api_key_id, model, service_tier, context_window,
                                           inference_geo, speed) ->
    (hour, workspace_id, api_key_id, model, service_tier, context_window, inference_geo, speed);
