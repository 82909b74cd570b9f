-- wrk script for bench/http.py: POST one JSON body, the same on every request.
--
--   wrk -t2 -c64 -d5s --latency -s bench/post.lua http://127.0.0.1:8000/graphql -- body.json
--
-- The body is read once from the file named after `--`; with no `request` function wrk
-- sends the same pre-formatted request each time (its fastest mode).

function init(args)
   local file = assert(io.open(args[1], "rb"), "cannot open the body file " .. tostring(args[1]))
   wrk.body = file:read("*a")
   file:close()
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   wrk.headers["Accept"] = "application/json"
end
