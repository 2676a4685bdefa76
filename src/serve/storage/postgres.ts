// Placeholder until the PostgreSQL repository lands.
import { JobRepository, StorageUnavailableError } from "./repository.js";
import { OpenRepositoryOptions } from "./open.js";

export class PostgresJobRepository {
  static async open(_url: string, _options: OpenRepositoryOptions = {}): Promise<JobRepository> {
    throw new StorageUnavailableError("PostgreSQL storage is not implemented yet");
  }
}
