import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    environment: "node",
    // Local-time formatting is tested in a fixed zone, whatever the machine's.
    env: { TZ: "UTC" },
  },
});
