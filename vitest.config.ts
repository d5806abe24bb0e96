import { defineConfig } from "vitest/config";

// Tests drive real engines (dockerd, sshd, QEMU under TCG) on a 2-core machine: generous
// timeouts, and at most two test files at once so real VMs are not starved.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "examples/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/fixtures/**"],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: "forks",
    maxWorkers: 2,
    reporters: ["default", "json"],
    outputFile: { json: "test/.cache/vitest-results.json" },
  },
});
