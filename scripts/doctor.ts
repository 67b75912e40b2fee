// npm run doctor: checks the configuration in the environment — or, with none, the local sandbox's —
// and prints a checklist. Exit code 0 only when every check passes.
import { doctorEnv, formatChecks, runDoctor } from '../server/src/doctor';

async function main() {
  const { env, source } = doctorEnv(process.env);
  console.log(`Checking the configuration from ${source}\n`);
  const checks = await runDoctor(env);
  console.log(formatChecks(checks));
  const failed = checks.filter((c) => !c.ok).length;
  console.log(failed ? `\n${failed} of ${checks.length} checks failed.` : `\nAll ${checks.length} checks passed.`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((err) => {
  console.error(`doctor: ${(err as Error).message}`);
  process.exitCode = 2;
});
