-- leak.lua: pool leak summary: !vm warnings, top tags by paged and nonpaged use, their owners, and a verdict.
-- The classic hunt for a pool leak (events 2019/2020, a server out of paged or nonpaged pool):
-- `!vm 1` for the warnings and the usage against the maximum, `!poolused 4` and `!poolused 2` for
-- the tags holding the most, then which driver owns the biggest tag. Owners are the loaded driver
-- images in the dump that contain the tag's four bytes (`!pooltag TAG`).
-- Usage: .scriptrun leak [N]   (N tags per list, default 10)
local top = tonumber(arg and arg[1]) or 10
local t = dbg.target()

local function stop(why)
  print("leak.lua: not a kernel dump with pool: " .. why)
  print("VERDICT: not a kernel dump with pool")
end

if not t.kernel then
  stop(string.format("this is a %s dump; pool lives in kernel memory", t.kind))
  return
end
local ok, used, uerr = pcall(dbg.pool.used)
if not ok then
  stop(tostring(used))
  return
elseif not used then
  stop(tostring(uerr))
  return
end

-- Counts come from JSON numbers; a value beyond 2^53 arrives as a string of digits.
local function num(v) return tonumber(v) or 0 end
local function outstanding(u) return math.max(num(u.allocs) - num(u.frees), 0) end
local function percent(part, whole)
  if whole <= 0 then return "?" end
  return string.format("%.0f%%", 100 * part / whole)
end

-- !vm: usage against maximum for both pools, and the warning banners.
print("POOL USAGE (!vm)")
local vm, vmerr = dbg.vm(1)
local pages = {}
if vm then
  for _, row in ipairs(vm.rows) do
    pages[row.label] = num(row.pages)
    if row.label:find("Pool", 1, true) then
      print(string.format("  %-26s %10d pages (%d Kb)", row.label, num(row.pages), num(row.kb)))
    end
  end
  local banners = vm.banners or {}
  if #banners == 0 then print("  no !vm warning") end
  for _, b in ipairs(banners) do print("  " .. b) end
else
  print("  !vm: " .. tostring(vmerr))
end

-- Which pool is under pressure: the one a banner names, else the fuller one.
local function ratio(usage, max)
  if pages[usage] and pages[max] and pages[max] > 0 then return pages[usage] / pages[max] end
  return -1
end
local pressure
for _, b in ipairs(vm and vm.banners or {}) do
  if b:find("Excessive Paged Pool", 1, true) then pressure = "paged" end
  if b:find("Excessive NonPaged Pool", 1, true) then pressure = pressure or "nonpaged" end
end
local pr, nr = ratio("PagedPool Usage:", "PagedPool Maximum:"), ratio("NonPagedPool Usage:", "NonPagedPool Max:")

-- Tracked totals per pool, for shares when !vm has no usage row.
local totals = { paged = 0, nonpaged = 0 }
for _, r in ipairs(used.rows) do
  totals.paged = totals.paged + num(r.paged.bytes)
  totals.nonpaged = totals.nonpaged + num(r.nonpaged.bytes)
end
if not pressure then
  if pr >= 0 or nr >= 0 then
    pressure = pr >= nr and "paged" or "nonpaged"
  else
    pressure = totals.paged >= totals.nonpaged and "paged" or "nonpaged"
  end
end
local function ranked(pool)
  local rows = {}
  for _, r in ipairs(used.rows) do
    if num(r[pool].bytes) > 0 then rows[#rows + 1] = r end
  end
  table.sort(rows, function(a, b)
    local x, y = num(a[pool].bytes), num(b[pool].bytes)
    if x ~= y then return x > y end
    return a.tag < b.tag
  end)
  return rows
end

local names = { paged = "paged", nonpaged = "nonpaged" }
local lists = {}
for _, pool in ipairs({ "paged", "nonpaged" }) do
  lists[pool] = ranked(pool)
  print()
  print(string.format("TOP %s TAGS (!poolused %d)", names[pool]:upper(), pool == "paged" and 4 or 2))
  if #lists[pool] == 0 then print("  none") end
  for i = 1, math.min(top, #lists[pool]) do
    local r = lists[pool][i]
    local u = r[pool]
    print(string.format("  %2d %-4s %12d bytes %4s %9d outstanding  %s", i, r.tag, num(u.bytes),
      percent(num(u.bytes), totals[pool]), outstanding(u), r.description))
  end
end
for _, n in ipairs(used.notes or {}) do print("  (" .. n .. ")") end

-- Owners of the suspects: the top three tags of the pool under pressure and the top tag of
-- the other pool.
local suspects, seen = {}, {}
local function suspect(r, pool)
  if r and not seen[r.tag] then
    seen[r.tag] = true
    suspects[#suspects + 1] = { row = r, pool = pool }
  end
end
for i = 1, 3 do suspect(lists[pressure][i], pressure) end
local other = pressure == "paged" and "nonpaged" or "paged"
suspect(lists[other][1], other)

local ownerSearch = true
local owners = {}
print()
print("OWNERS (driver images in the dump that contain the tag)")
for _, s in ipairs(suspects) do
  local tag = s.row.tag
  if ownerSearch then
    local r, err = dbg.exec('!pooltag "' .. tag .. '"')
    if not r then
      if tostring(err):find("No export", 1, true) or tostring(err):find("not a command", 1, true) then
        ownerSearch = false
      else
        print(string.format("  %-4s owner search failed: %s", tag, tostring(err)))
      end
    else
      local list = {}
      for _, o in ipairs(r.owners or {}) do
        if num(o.hits) > 0 then
          list[#list + 1] = string.format("%s (%d %s, %d in code)", o.module or "?", num(o.hits),
            num(o.hits) == 1 and "hit" or "hits", num(o.code_hits))
        end
      end
      owners[tag] = r.owners or {}
      if #list == 0 then
        print(string.format("  %-4s no loaded image in the dump contains the tag", tag))
      else
        print(string.format("  %-4s %s", tag, table.concat(list, ", ")))
      end
    end
  end
end
if not ownerSearch then print("  owner search not available") end

-- Verdict: the biggest consumer of the pool under pressure.
local function firstOwner(tag)
  for _, o in ipairs(owners[tag] or {}) do
    if num(o.hits) > 0 then return o.module end
  end
end
local lead = lists[pressure][1]
if not lead then
  print("VERDICT: no tag holds " .. names[pressure] .. " pool; no leak visible in the tracker table")
  return
end
local u = lead[pressure]
local freed
if num(u.frees) == 0 then
  freed = "never freed"
else
  freed = string.format("%d of %d allocations not freed", outstanding(u), num(u.allocs))
end
local state = "below its maximum"
local phrase = pressure == "paged" and "Excessive Paged Pool" or "Excessive NonPaged Pool"
for _, b in ipairs(vm and vm.banners or {}) do
  if b:find(phrase, 1, true) then state = "at its maximum (" .. phrase .. " Usage)" end
end
local owner = firstOwner(lead.tag)
local ownerText = owner and ("owner " .. owner) or (ownerSearch and "owner not found in the dump" or "owner unknown")
print(string.format("VERDICT: tag '%s' most likely leaks: %d bytes in %d %s allocations, %s (%s of the %s bytes tracked); %s pool %s; %s",
  lead.tag, num(u.bytes), outstanding(u), names[pressure], freed, percent(num(u.bytes), totals[pressure]),
  names[pressure], names[pressure], state, ownerText))
