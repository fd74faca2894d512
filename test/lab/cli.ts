// The lab from the command line (compiled to dist/test/lab/cli.js; `npm run lab -- ...` or test/lab/lab):
//   up [--hosts N] [--gtid] [--name X] [--set key=value ...]   build a lab, print it as JSON, leave it up (detached)
//   down <id|name|all> [--force]                               tear labs down (not ones a live process owns, without --force)
//   gc                                                         reap labs whose owning process died (not detached ones)
//   list [--json]                                              labs on this machine
//   config <id|name>                                           write the lab's app1.cnf and print its path
import { Lab, type MysqldOptions } from './lab.js';

const USAGE = `usage: lab up [--hosts N] [--gtid] [--name NAME] [--set mysqld_option=value ...]
       lab down <id|name|all> [--force]
       lab gc
       lab list [--json]
       lab config <id|name>`;

function fail(msg: string): never {
  process.stderr.write(`lab: ${msg}\n`);
  process.exit(1);
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...args] = argv;
  switch (cmd) {
    case 'up': {
      let hosts: number | undefined;
      let gtid = false;
      let name: string | undefined;
      const mysqldOptions: MysqldOptions = {};
      for (let i = 0; i < args.length; i++) {
        const a = args[i]!;
        const value = () => args[++i] ?? fail(`${a} needs a value`);
        if (a === '--hosts') hosts = Number(value());
        else if (a.startsWith('--hosts=')) hosts = Number(a.slice(8));
        else if (a === '--gtid') gtid = true;
        else if (a === '--name') name = value();
        else if (a.startsWith('--name=')) name = a.slice(7);
        else if (a === '--set') {
          const kv = value();
          const eq = kv.indexOf('=');
          if (eq < 0) mysqldOptions[kv] = true;
          else mysqldOptions[kv.slice(0, eq)] = kv.slice(eq + 1);
        } else fail(`unknown option ${a}\n${USAGE}`);
      }
      if (hosts !== undefined && !Number.isInteger(hosts)) fail('--hosts needs a number');
      const lab = await Lab.up({ hosts, gtid, name, mysqldOptions });
      const config = lab.writeConfig();
      lab.detach();
      process.stdout.write(`${JSON.stringify({ ...lab.toJSON(), config, timings: lab.timings }, null, 2)}\n`);
      // The lab's daemons run on; drop our handles without touching them.
      process.exit(0);
    }
    case 'down': {
      // Labs owned by a live process (a test run, maybe someone else's) are left alone unless --force.
      const force = args.includes('--force');
      const which = args.find((a) => !a.startsWith('--')) ?? fail(`down needs a lab id, name or "all"\n${USAGE}`);
      const targets = which === 'all' ? Lab.list().map((l) => l.id) : [which];
      let refused = 0;
      for (const id of targets) {
        const lab = Lab.attach(id);
        if (!lab.detached && lab.ownerAlive && !force) {
          process.stderr.write(`lab ${lab.id} (${lab.name}) is in use by running process ${lab.ownerPid}: left up (--force to take it down anyway)\n`);
          refused++;
          continue;
        }
        const t = Date.now();
        await lab.down();
        process.stdout.write(`lab ${lab.id} (${lab.name}) down (${Date.now() - t} ms)\n`);
      }
      if (refused && which !== 'all') process.exit(1);
      return;
    }
    case 'gc': {
      const reaped = Lab.gc();
      if (reaped.length) process.stdout.write(`lab gc: removed ${reaped.join(', ')}\n`);
      return;
    }
    case 'list': {
      const labs = Lab.list();
      if (args.includes('--json')) {
        process.stdout.write(`${JSON.stringify(labs, null, 2)}\n`);
        return;
      }
      for (const l of labs) {
        const owner = l.detached ? 'detached' : l.ownerAlive ? `owner ${l.ownerPid}` : `owner ${l.ownerPid} dead (gc)`;
        process.stdout.write(`${l.id}  ${l.name.padEnd(12)} ${l.subnet.padEnd(16)} ${l.hosts} hosts ${l.gtid ? 'gtid' : 'file/pos'}  ${owner}  ${l.dir}\n`);
      }
      return;
    }
    case 'config': {
      const which = args[0] ?? fail(`config needs a lab id or name\n${USAGE}`);
      process.stdout.write(`${Lab.attach(which).writeConfig()}\n`);
      return;
    }
    default:
      fail(USAGE);
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (e: unknown) => fail(e instanceof Error ? e.message : String(e)),
);
