-- HTTP ingest driven by wrk (bench/http.ts): each wrk thread posts its share of the batch bodies
-- written to a folder (thread i of n takes bodies i, i + n, ...), each once, and then idles.
-- It writes "start" to stderr at its first request and "done OK BAD" once every batch of its
-- share is answered, so that the caller times the run and stops wrk (its -d only bounds it).
--
-- Arguments after `--`: folder, bodies in all, threads, path, authorization header.

local threads = 0

function setup(thread)
  thread:set("index", threads)
  threads = threads + 1
end

function init(args)
  local folder, total, count = args[1], tonumber(args[2]), tonumber(args[3])
  path = args[4]
  headers = { ["authorization"] = args[5], ["content-type"] = "application/json" }
  bodies = {}
  local i = index
  while i < total do
    local file = assert(io.open(string.format("%s/%06d.json", folder, i), "rb"))
    bodies[#bodies + 1] = file:read("*a")
    file:close()
    i = i + count
  end
  sent, ok, bad, started = 0, 0, 0, false
end

function request()
  -- wrk calls request() once on its first thread before the run, to check the script
  -- (script_verify_request), and sends nothing of it: that call gets no body.
  if index == 0 and not verified then
    verified = true
    return wrk.format("GET", "/healthz")
  end
  if not started then
    started = true
    io.stderr:write("start\n")
  end
  if sent >= #bodies then
    return wrk.format("GET", "/healthz")
  end
  sent = sent + 1
  return wrk.format("POST", path, headers, bodies[sent])
end

-- Once its share is sent, a connection waits a second between requests (to /healthz): no load.
function delay()
  if sent >= #bodies then
    return 1000
  end
  return 0
end

function response(status, headers, body)
  if not body:find('"accepted"', 1, true) and status == 200 then
    return
  end
  if status == 200 then ok = ok + 1 else bad = bad + 1 end
  if ok + bad == #bodies then
    io.stderr:write(string.format("done %d %d\n", ok, bad))
  end
end
