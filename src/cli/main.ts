/** Entry point of the `vfido` binary (bin/vfido.js imports this module). */
import { main } from './program.ts';
import { processIo } from './io.ts';

const code = await main(process.argv, processIo());
// Exit explicitly: a stopped device leaves nothing to wait for, and a failed start must not linger.
process.exit(code);
