/**
 * `ChatStoreApi`: the store's operations as one contract, kept by the in-process `ChatStore` and by
 * the HTTP client (`chatstore/client`) alike, so code written against it runs on either. It holds
 * every `ChatStore` method the HTTP API serves, with the same arguments, results and error codes.
 * Left out, because they describe the process the store runs in rather than the data and are
 * synchronous on `ChatStore`: `backendName`, `limits`, `tierStats()` and `storageBytes()`.
 */
import type { ArchiveRunReport, ArchiveStats, CompactionReport } from './backend.js';
import type {
  AppendResult,
  ContextMessage,
  Conversation,
  ConversationPage,
  ConversationPatch,
  ErasureReceipt,
  Message,
  MessageStatus,
  NewConversation,
  NewMessage,
  NewParticipant,
  Page,
  SearchPage,
  Stats,
} from './model.js';
import type {
  AppendOptions,
  ArchivedPage,
  ArchiveOptions,
  AroundOptions,
  ContextOptions,
  DeleteOptions,
  EditOptions,
  EraseOptions,
  ExportFilter,
  ExportRecord,
  ListArchivedOptions,
  ListConversationsOptions,
  ListOptions,
  RestoreOptions,
  RetentionOptions,
  RetentionReport,
  SearchOptions,
  StatusOptions,
  SubjectExportRecord,
} from './store/options.js';

/**
 * What a store does, wherever it runs: `ChatStore` in process, `chatStoreClient` over HTTP. Each
 * method is documented on `ChatStore`.
 * @example
 * async function lastTurns(store: ChatStoreApi, id: string) { return store.context(id, { maxTokens: 3000 }); }
 */
export interface ChatStoreApi {
  append(conversationId: string, input: NewMessage | NewMessage[], options?: AppendOptions): Promise<AppendResult[]>;
  restore(conversationId: string, messages: Message[], options?: RestoreOptions): Promise<AppendResult[]>;
  get(id: string): Promise<Message | undefined>;
  getByExternalId(externalId: string, conversationId?: string): Promise<Message | undefined>;
  recent(conversationId: string, n?: number): Promise<Message[]>;
  list(conversationId: string, options?: ListOptions): Promise<Page>;
  around(conversationId: string, seqOrId: number | string, options?: AroundOptions): Promise<Message[]>;
  context(conversationId: string, options?: ContextOptions): Promise<ContextMessage[]>;
  search(query: string, options?: SearchOptions): Promise<SearchPage>;
  updateStatus(idOrExternalId: string, status: MessageStatus, options?: StatusOptions): Promise<Message>;
  edit(id: string, changes: EditOptions): Promise<Message>;
  delete(id: string, options?: DeleteOptions): Promise<boolean>;
  getConversation(id: string): Promise<Conversation | undefined>;
  listConversations(options?: ListConversationsOptions): Promise<ConversationPage>;
  createConversation(id: string, init?: NewConversation): Promise<Conversation>;
  updateConversation(id: string, patch: ConversationPatch): Promise<Conversation>;
  addParticipants(id: string, participants: NewParticipant[]): Promise<Conversation>;
  removeParticipant(id: string, participantId: string): Promise<Conversation>;
  deleteConversation(id: string, options?: DeleteOptions): Promise<boolean>;
  stats(conversationId?: string): Promise<Stats>;
  eraseSubject(participantId: string, options?: EraseOptions): Promise<ErasureReceipt>;
  exportSubject(participantId: string): AsyncIterable<SubjectExportRecord>;
  compact(): Promise<CompactionReport>;
  export(filter?: ExportFilter): AsyncIterable<Message>;
  exportRecords(filter?: ExportFilter): AsyncIterable<ExportRecord>;
  archive(options?: ArchiveOptions): Promise<ArchiveRunReport>;
  listArchived(options?: ListArchivedOptions): Promise<ArchivedPage>;
  restoreArchived(conversationId: string): Promise<boolean>;
  archiveStats(): Promise<ArchiveStats | undefined>;
  applyRetention(options: RetentionOptions): Promise<RetentionReport>;
  /** Later calls fail with `UNAVAILABLE`. */
  close(): Promise<void>;
}
