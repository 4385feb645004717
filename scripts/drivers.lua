-- drivers.lua: third-party (non-Microsoft) modules with their link dates, oldest first.
-- A module is Microsoft's when its image's version resource says so (CompanyName, read when the
-- image is in the dump or on the image/symbol path). Without that resource wdbg guesses, and
-- says which rule decided:
--   * "os version": the file version is the OS's own (same major.minor, build at most 16 below
--     the OS build: Windows servicing keeps the RTM build, 19041 on a 19045 system);
--   * "reproducible": the link "date" is later than the dump or earlier than 1995 (before any
--     32-bit Windows driver model), which Microsoft's deterministic builds produce: the field
--     holds a hash, not a date. Third-party builds rarely use /Brepro.
-- Anything else is listed as third-party, with the reason "no version info" when nothing was known.
local t = dbg.target()
local dumptime = t.dump_time or "9999"

local function classify(m)
  local vi = dbg.versioninfo(m.name)
  if vi and vi.CompanyName then
    return not vi.CompanyName:find("Microsoft", 1, true), "company: " .. vi.CompanyName
  end
  if m.version then
    local maj, min, build = m.version:match("^(%d+)%.(%d+)%.(%d+)")
    maj, min, build = tonumber(maj), tonumber(min), tonumber(build)
    if maj == t.major and min == t.minor and build <= t.build and t.build - build <= 16 then
      return false, "os version " .. m.version
    end
  end
  local d = m.date and m.date:gsub(" ", "T")
  if d and (d > dumptime or d < "1995") then
    return false, "reproducible build"
  end
  if m.version then return true, "version " .. m.version end
  return true, "no version info"
end

local rows = {}
for _, m in ipairs(dbg.modules()) do
  local third, why = classify(m)
  if third then rows[#rows + 1] = { m = m, why = why } end
end
table.sort(rows, function(x, y)
  if x.m.timestamp ~= y.m.timestamp then return x.m.timestamp < y.m.timestamp end
  return x.m.name:lower() < y.m.name:lower()
end)

print(string.format("%d third-party modules of %d, oldest first:", #rows, #dbg.modules()))
for _, r in ipairs(rows) do
  print(string.format("  %-20s %s  %-19s %s  (%s)", r.m.name, tostring(r.m.base), r.m.date or "no date",
    r.m.image, r.why))
end
