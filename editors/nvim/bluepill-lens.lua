-- nvim-dap: the bluepill-lens adapter next to nvim-dap-go's configurations (after
-- require('dap-go').setup()), with a picker that lists runsc sandboxes first.
local dap = require('dap')

dap.adapters.bluepill = {
  type = 'executable',
  command = 'bluepill-lens', -- or 'node' with '/path/to/bluepill-lens/dist/cli.js' first in args
  args = { 'adapter', '--dlv-path', vim.fn.exepath('dlv') },
}

-- `bluepill-lens processes --json` prints one JSON array, sandboxes first (sandbox = true).
local function pick_sandbox()
  local result = vim.system({ 'bluepill-lens', 'processes', '--json' }, { text = true }):wait()
  if result.code ~= 0 then
    vim.notify('bluepill-lens processes failed: ' .. (result.stderr or ''), vim.log.levels.ERROR)
    return dap.ABORT
  end
  local processes = vim.json.decode(result.stdout)
  return coroutine.create(function(picker)
    vim.ui.select(processes, {
      prompt = 'Attach to (* = runsc sandbox)',
      format_item = function(p)
        return (p.sandbox and '* ' or '  ') .. p.pid .. ' ' .. table.concat(p.argv, ' ')
      end,
    }, function(choice)
      coroutine.resume(picker, choice and choice.pid or dap.ABORT)
    end)
  end)
end

dap.configurations.go = dap.configurations.go or {}
vim.list_extend(dap.configurations.go, {
  { type = 'bluepill', request = 'attach', name = 'bluepill: attach to runsc sandbox', mode = 'local',
    processId = pick_sandbox, asRoot = true },
  { type = 'bluepill', request = 'attach', name = 'bluepill: connect to remote dlv', mode = 'remote',
    host = '192.0.2.10', port = 2345 },
})
