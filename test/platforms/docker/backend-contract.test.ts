import { dockerBackendContract } from "../../contracts/docker-backend.contract.js";
import { FakeDockerBackend } from "../../fakes/docker-backend.js";
import { EngineBackend } from "../../../runtime/platforms/docker/backend-engine.js";
import { busyboxImage } from "../../support/docker-base.js";

dockerBackendContract("engine", async () => {
  const backend = new EngineBackend();
  return { backend, baseImage: await busyboxImage(backend) };
});

dockerBackendContract("fake", async () => {
  const backend = new FakeDockerBackend();
  backend.addImage("imgc-test/busybox:1", { cmd: ["/bin/sh"] });
  return { backend, baseImage: "imgc-test/busybox:1" };
});
