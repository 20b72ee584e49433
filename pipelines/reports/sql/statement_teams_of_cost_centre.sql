-- The teams charged to a cost centre in a month (chargeback lines; with cost_centre_tag a team's spend in a tagged
-- workspace is charged to the tag's cost centre, docs/finance.md "Cost centres from workspace tags").
SELECT DISTINCT team FROM chargeback_monthly
WHERE month = {month:Date} AND cost_center = {cost_center:String}
ORDER BY team
