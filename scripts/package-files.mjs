// Gives each package (client/ is `roommesh`, signaling/ is `roommesh-server`) the LICENSE npm
// ships from a package's own folder, and the client its README (the repository's). The copies
// are not tracked; signaling/README.md is the service package's own.
import { copyFileSync } from 'node:fs';

for (const dir of ['client', 'signaling']) copyFileSync('LICENSE', `${dir}/LICENSE`);
copyFileSync('README.md', 'client/README.md');
