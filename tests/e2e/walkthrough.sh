#!/usr/bin/env bash
# The README's walk-through, as one script: test_walkthrough.py runs it against a `gotong dev` and checks that
# everything below the marker is exactly the README's code blocks of "## A walk-through", in order.
set -euo pipefail
# --- the README's walk-through ---
GOTONG=${GOTONG:-http://127.0.0.1:8000}
INSPECTOR=$(gotong token --role inspector --org mutu-qc --sub rini)
WEAVER=$(gotong token --role msme --org rotan-cirebon --sub siti)
BUYER=$(gotong token --role buyer --org rotterdam-living --sub jan)
AGGREGATOR=$(gotong token --role aggregator --org nusantara-trading --sub ana)

get()  { curl -sS --fail-with-body "$GOTONG$1" -H "Authorization: Bearer $2"; }
send() { curl -sS --fail-with-body -X "$1" "$GOTONG$2" -H "Authorization: Bearer $3" \
              -H 'Content-Type: application/json' -d "$4"; }
post() { send POST "$@"; }
# Services learn from each other's events within moments: wait_for PATH TOKEN JQ-CONDITION polls a GET.
wait_for() {
  for _ in $(seq 150); do get "$1" "$2" | jq -e "$3" > /dev/null && return 0; sleep 0.2; done
  echo "gave up waiting for $1 to satisfy $3" >&2; return 1
}
month() { jq -rn --argjson n "$1" 'now | gmtime | .[2] = 1 | .[1] += $n | mktime | strftime("%Y-%m")'; }
M1=$(month 1); M2=$(month 2); M3=$(month 3); REQUIRED_BY="$(month 4)-25"
STANDARD=$(post /v1/standards "$INSPECTOR" '{
  "name": "Rattan basket, export grade A", "inspection_level": "II", "publish": true,
  "defect_classes": [{"defect_class": "critical", "aql": "0.65"}, {"defect_class": "major", "aql": "2.5"},
                     {"defect_class": "minor", "aql": "4.0"}],
  "attributes": [{"name": "diameter", "unit": "cm", "nominal": "30",
                  "lower_tolerance": "1", "upper_tolerance": "1"}]}' | jq -r .id)
MSME=$(post /v1/msmes "$WEAVER" '{"name": "Rotan Jaya Cirebon", "nib": "3209011234567",
  "province": "Jawa Barat", "city": "Cirebon", "size_class": "small",
  "contact": {"name": "Siti Rahayu", "phone": "+62 231 555 0100"}}' | jq -r .id)
PRODUCT=$(post /v1/msmes/$MSME/products "$WEAVER" '{"sku": "RTN-30", "name": "Round rattan basket 30 cm",
  "hs_code": "4602.12", "category": "homeware", "unit": "PCE", "moq": 100, "lead_time_days": 14,
  "price_tiers": [{"min_quantity": 100, "unit_price": {"amount": "3.40", "currency": "USD"}}],
  "standards": [{"standard_id": "'$STANDARD'", "version": 1}]}' | jq -r .id)
send PUT /v1/products/$PRODUCT/capacity "$WEAVER" \
  '{"months": {"'$M1'": 400, "'$M2'": 400, "'$M3'": 400}}' | jq -c '.capacity'
FIRST_ARTICLE=$(post /v1/inspections "$INSPECTOR" '{"kind": "first_article", "msme_id": "'$MSME'",
  "product_id": "'$PRODUCT'", "standard_id": "'$STANDARD'", "standard_version": 1, "sample_size": 5}' | jq -r .id)
post /v1/inspections/$FIRST_ARTICLE/results "$INSPECTOR" \
  '{"defects": {"critical": 0, "major": 0, "minor": 0}}' | jq -c '{status, reasons: .verdict.reasons}'
POOL=$(post /v1/pools "$AGGREGATOR" '{"name": "Rattan baskets for Rotterdam", "hs_code": "460212",
  "standard_id": "'$STANDARD'", "standard_version": 1, "unit": "PCE", "currency": "USD",
  "consolidation_point": "IDSRG"}')
get "/v1/pools?wait_for_position=$(echo "$POOL" | jq .position)" "$AGGREGATOR" > /dev/null
POOL=$(echo "$POOL" | jq -r .id)
post /v1/buyers "$BUYER" '{"name": "Rotterdam Living B.V.", "country": "NL",
  "contacts": [{"name": "Jan de Vries", "email": "jan@rotterdam-living.example"}]}' | jq -c '{id, name}'
ORDER=$(post /v1/orders "$BUYER" '{"incoterm": "FOB", "destination_country": "NL",
  "destination_port": "NLRTM", "loading_port": "IDSRG", "required_by": "'$REQUIRED_BY'",
  "lines": [{"hs_code": "460212", "category": "homeware", "description": "Round rattan basket, 30 cm",
             "standard_id": "'$STANDARD'", "standard_version": 1, "quantity": 1000, "unit": "PCE",
             "target_unit_price": {"amount": "4.80", "currency": "USD"}}]}')
LINE=$(echo "$ORDER" | jq -r '.lines[0].line_id'); ORDER=$(echo "$ORDER" | jq -r .id)
VALID_UNTIL=$(jq -rn 'now + 7 * 86400 | strftime("%Y-%m-%dT%H:%M:%SZ")')
post /v1/orders/$ORDER/quote "$AGGREGATOR" '{"lead_time_days": 90, "valid_until": "'$VALID_UNTIL'",
  "lines": [{"line_id": "'$LINE'", "unit_price": {"amount": "4.95", "currency": "USD"}}]}' | jq -r .state
post /v1/orders/$ORDER/confirm "$BUYER" '{}' | jq -r .state
wait_for /v1/pools/$POOL "$AGGREGATOR" '.demand == 1000'
for _ in $(seq 50); do
  PROPOSAL=$(post /v1/pools/$POOL/allocate "$AGGREGATOR" '{}')
  [ "$(echo "$PROPOSAL" | jq .allocated)" = 1000 ] && break; sleep 0.2
done
echo "$PROPOSAL" | jq -c '.allocations[] | {msme_name, quantity, unit_price, plan}'
post /v1/pools/$POOL/proposals/$(echo "$PROPOSAL" | jq -r .id)/approve "$AGGREGATOR" '{}' | jq -c .request_ids
wait_for "/v1/allocation-requests?status=pending" "$WEAVER" '.items | length == 1'
REQUEST=$(get "/v1/allocation-requests?status=pending" "$WEAVER" | jq -r '.items[0].id')
post /v1/allocation-requests/$REQUEST/accept "$WEAVER" '{}' | jq -c '{status, accepted, accepted_plan}'
wait_for /v1/orders/$ORDER "$BUYER" '.state == "in_production"'
LOT=$(post /v1/pools/$POOL/lots "$WEAVER" '{"msme_id": "'$MSME'", "quantity": 1000,
  "lot_code": "CRB-0001", "delivered_on": "'$(jq -rn 'now | strftime("%Y-%m-%d")')'"}' | jq -r .lot_id)
INSPECTION=$(post /v1/inspections "$INSPECTOR" '{"kind": "lot", "msme_id": "'$MSME'", "lot_id": "'$LOT'",
  "pool_id": "'$POOL'", "lot_size": 1000, "standard_id": "'$STANDARD'", "standard_version": 1}')
echo "$INSPECTION" | jq -c '.plans[] | {defect_class, code_letter, sample_size, accept, reject}'
post /v1/inspections/$(echo "$INSPECTION" | jq -r .id)/results "$INSPECTOR" '{
  "defects": {"critical": 0, "major": 2, "minor": 3},
  "measurements": [{"attribute": "diameter", "values": ["29.6", "30.2", "30.4", "29.9", "30.1"]}]}' \
  | jq -r '.verdict.reasons[]'
wait_for /v1/orders/$ORDER "$BUYER" '.state == "inspected"'
post /v1/pools/$POOL/ship "$AGGREGATOR" '{}' | jq -c '{id, quantity, lots}'
wait_for /v1/orders/$ORDER "$BUYER" '.state == "shipped"'
get /v1/orders/$ORDER/history "$BUYER" | jq -r '.items[] | "\(.at)  \(.summary)"'
get /v1/orders/$ORDER/provenance "$BUYER" | jq '.lines[0].lots[] | {lot_code, quantity, status,
  made_by: .msme.name, city: .msme.city, nib: .msme.nib, verdicts: [.inspections[].verdict]}'
curl -sS --fail-with-body "$GOTONG/v1/orders/$ORDER/provenance.csv" -H "Authorization: Bearer $BUYER"
