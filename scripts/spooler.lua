-- spooler.lua: print spooler crash: the faulting driver, then the strings on the faulting thread's stack.
-- The strings between the thread's StackLimit and StackBase (ASCII and UTF-16) usually name the
-- printer, the job and the port the spooler was working on when the driver failed.
local min = tonumber(arg and arg[1]) or 5

local a, aerr = dbg.analyze()   -- also makes the faulting thread current
if a then
  print("Faulting module: " .. (a.image_name ~= "" and a.image_name or "unknown"))
  print("Faulting symbol: " .. (a.symbol_name ~= "" and a.symbol_name or "unknown"))
  local m = a.module_name ~= "" and dbg.module(a.module_name) or nil
  if m then
    print(string.format("Driver: %s  %s  %s  version %s", m.path, tostring(m.base), m.date or "no date",
      m.version or "unknown"))
  end
else
  print("!analyze failed: " .. tostring(aerr))
end

local n = dbg.thread()
local th = dbg.threads()[n + 1]
local lo, hi
local teb = dbg.teb()
if teb and teb.stack_limit and teb.stack_base then
  lo, hi = teb.stack_limit, teb.stack_base
  print(string.format("Thread %d (id %x): stack %s - %s (from the TEB)", n, th.id, tostring(lo), tostring(hi)))
elseif th and th.stack_size > 0 then
  lo, hi = th.stack_start, th.stack_start + th.stack_size
  print(string.format("Thread %d (id %x): stack %s - %s (from the dump's thread list)", n, th.id, tostring(lo), tostring(hi)))
else
  print("No stack range known for the faulting thread")
  return
end

local found = dbg.strings(lo, hi, min)
print(string.format("%d strings of %d or more characters on the stack:", #found, min))
for _, s in ipairs(found) do
  print(string.format("  %s %-5s %s", tostring(s.address), s.kind, s.text))
end
