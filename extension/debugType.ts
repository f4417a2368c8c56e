// The debug type this extension contributes.
export const DEBUG_TYPE = 'bluepill';
