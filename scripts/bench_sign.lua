-- wrk script: every request signs with a new address from a new client IP
-- (gunicorn trusts one proxy hop during the bench, so X-Forwarded-For is the
-- client). Counts 303 responses, the signatures the site accepted; any other
-- status is a refusal, which fails the bench.
local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
  table.insert(threads, thread)
end

function init(args)
  accepted = 0
  refused = 0
  counter = 0
  run = os.getenv("BENCH_RUN")
  sign_path = os.getenv("BENCH_SIGN_PATH")
  -- Only for comparing with a commit that still wanted CSRF tokens
  -- (scripts/bench_sign_ab.sh); the site itself checks Fetch Metadata.
  token = os.getenv("BENCH_CSRF_TOKEN") or ""
  cookie = os.getenv("BENCH_CSRF_COOKIE") or ""
end

function request()
  counter = counter + 1
  local email = string.format("bench-%s-%d-%d@example.org", run, id, counter)
  local ip = string.format("10.%d.%d.%d", id, math.floor(counter / 250) % 250, counter % 250)
  local body = "full_name=Bench+Signer&email=" .. email
    .. "&country=GB&postcode=SW1A+1AA&consent=on"
  local headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    -- What a browser sends with a form filled in on the page itself.
    ["Sec-Fetch-Site"] = "same-origin",
    ["X-Forwarded-For"] = ip,
  }
  if token ~= "" then
    body = "csrfmiddlewaretoken=" .. token .. "&" .. body
    headers["Cookie"] = "csrftoken=" .. cookie
  end
  return wrk.format("POST", sign_path, headers, body)
end

function response(status, headers, body)
  if status == 303 then accepted = accepted + 1 else refused = refused + 1 end
end

function done(summary, latency, requests)
  local total_accepted, total_refused = 0, 0
  for _, thread in ipairs(threads) do
    total_accepted = total_accepted + thread:get("accepted")
    total_refused = total_refused + thread:get("refused")
  end
  io.write(string.format("ACCEPTED %d REFUSED %d ERRORS %d\n", total_accepted,
    total_refused, summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout))
end
