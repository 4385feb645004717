-- triage.lua: crash summary for any dump: what happened, where, who, and a verdict line.
--
-- It prints the report and returns a table for `wdbg triage` (the contract of a triage
-- playbook): bucket (FAILURE_BUCKET_ID, "" when there is none), summary (one line), verdict,
-- and the facts behind them (what, symbol, module, process, kind, arch).
local t = dbg.target()
local a, aerr = dbg.analyze()

print("WHAT")
local what
if t.bugcheck then
  local b = t.bugcheck
  local p = {}
  for i = 1, 4 do p[i] = tostring(b.params[i]) end
  what = string.format("bug check %s (%s)", b.code_hex, table.concat(p, ", "))
elseif t.exception then
  local e = t.exception
  what = string.format("exception %s at %s", e.code_hex, tostring(e.address))
else
  what = "no exception or bug check recorded"
end
print("  " .. what)
if a then
  local text = a.exception_text or a.bugcheck_name or ""
  if text ~= "" then print("  " .. text) end
  if a.read_address then print("  read of " .. a.read_address) end
  if a.write_address then print("  write to " .. a.write_address) end
end

print("WHERE")
if a then
  print("  symbol: " .. (a.symbol_name ~= "" and a.symbol_name or "unknown"))
  print("  module: " .. (a.image_name ~= "" and a.image_name or "unknown"))
  local st = a.stack_text or {}
  for i = 1, math.min(#st, 5) do print("  " .. st[i]) end
else
  print("  !analyze failed: " .. tostring(aerr))
end

print("WHO")
print(string.format("  %s dump, %s, %s", t.kind, t.arch, t.os or ("build " .. t.build)))
if a and a.process_name and a.process_name ~= "" then print("  process: " .. a.process_name) end
if t.machine_name and t.machine_name ~= "" then print("  machine: " .. t.machine_name) end
local th = dbg.threads()[dbg.thread() + 1]
if th then
  print(string.format("  thread %d (id %x)%s", th.index, th.id, th.name and (" " .. th.name) or ""))
end

local verdict
if a and a.failure_bucket_id ~= "" then
  verdict = string.format("%s in %s (%s)", a.failure_bucket_id,
    a.image_name ~= "" and a.image_name or "unknown module", a.probably_caused_by or "")
else
  verdict = "no analysis available"
end
print("VERDICT: " .. verdict)

local function field(name) return a and a[name] ~= "" and a[name] or nil end
local where = field("symbol_name") or field("image_name")
return {
  bucket = field("failure_bucket_id") or "",
  summary = where and (what .. " in " .. where) or what,
  verdict = verdict,
  what = what,
  symbol = field("symbol_name"),
  module = field("image_name"),
  process = field("process_name"),
  kind = t.kind,
  arch = t.arch,
  analyze_error = (not a) and tostring(aerr) or nil,
}
