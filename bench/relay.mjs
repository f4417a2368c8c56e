// The floor of any DAP proxy: a byte relay between stdio and a dlv DAP server that
// parses nothing. Stepping through it costs the extra process hop and nothing else,
// so the proxy's own cost is what it adds above this.
import * as net from 'node:net';

const socket = net.connect(Number(process.env.RELAY_PORT), '127.0.0.1');
socket.setNoDelay(true);
process.stdin.pipe(socket);
socket.pipe(process.stdout);
socket.on('close', () => process.exit(0));
process.stdin.on('end', () => socket.end());
