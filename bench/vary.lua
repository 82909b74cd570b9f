-- wrk script for bench/http.py: POST JSON bodies taken in turn from a file, one per line.
--
--   wrk -t2 -c64 -d5s --latency -s bench/vary.lua http://127.0.0.1:8000/graphql -- bodies.txt
--
-- Each thread keeps a request counter and cycles through every body (the threads start at
-- different places), so consecutive requests ask for different things.

local threads = 0
local requests = {}
local counter = 0

function setup(thread)
   thread:set("offset", threads * 7919)
   threads = threads + 1
end

function init(args)
   local headers = { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }
   for line in io.lines(args[1]) do
      if #line > 0 then
         requests[#requests + 1] = wrk.format("POST", nil, headers, line)
      end
   end
   assert(#requests > 0, "no bodies in " .. tostring(args[1]))
   counter = (offset or 0) % #requests
end

function request()
   counter = counter % #requests + 1
   return requests[counter]
end
