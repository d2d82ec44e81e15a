import type { ChannelStats, Conversation, Media, Message, Participant, Stats, StatusTimes } from '../model.js';
import { compareUtf8 } from '../text.js';

const STATUS_ORDER: readonly (keyof StatusTimes)[] = ['queued', 'sent', 'delivered', 'read', 'failed'];

/** A message with its keys in the documented order. */
export function canonicalMessage(message: Message): Message {
  const out: Partial<Record<keyof Message, unknown>> = {
    id: message.id,
    conversationId: message.conversationId,
    seq: message.seq,
  };
  if (message.externalId !== undefined) out.externalId = message.externalId;
  out.role = message.role;
  out.direction = message.direction;
  if (message.senderId !== undefined) out.senderId = message.senderId;
  if (message.recipientId !== undefined) out.recipientId = message.recipientId;
  out.content = message.content;
  if (message.parts !== undefined) out.parts = message.parts;
  if (message.media !== undefined) out.media = message.media.map(canonicalMedia);
  if (message.status !== undefined) out.status = message.status;
  if (message.statusAt !== undefined) out.statusAt = canonicalStatusTimes(message.statusAt);
  if (message.error !== undefined) {
    out.error =
      message.error.code === undefined
        ? { message: message.error.message }
        : { code: message.error.code, message: message.error.message };
  }
  if (message.replyTo !== undefined) out.replyTo = message.replyTo;
  if (message.command !== undefined) out.command = { name: message.command.name, admin: message.command.admin };
  if (message.metadata !== undefined) out.metadata = message.metadata;
  out.createdAt = message.createdAt;
  if (message.editedAt !== undefined) out.editedAt = message.editedAt;
  if (message.deletedAt !== undefined) out.deletedAt = message.deletedAt;
  return out as Message;
}

export function canonicalMaybe(message: Message | undefined): Message | undefined {
  return message === undefined ? undefined : canonicalMessage(message);
}

function canonicalMedia(media: Media): Media {
  const out: Media = { url: media.url, type: media.type };
  if (media.mimeType !== undefined) out.mimeType = media.mimeType;
  if (media.size !== undefined) out.size = media.size;
  if (media.sha256 !== undefined) out.sha256 = media.sha256;
  if (media.providerId !== undefined) out.providerId = media.providerId;
  return out;
}

/** Status times in lifecycle order: queued, sent, delivered, read, failed. */
function canonicalStatusTimes(times: StatusTimes): StatusTimes {
  const out: StatusTimes = {};
  for (const status of STATUS_ORDER) {
    const at = times[status];
    if (at !== undefined) out[status] = at;
  }
  return out;
}

/** A conversation with its keys (and its participants' keys) in the documented order. */
export function canonicalConversation(conversation: Conversation): Conversation {
  const out: Partial<Record<keyof Conversation, unknown>> = { id: conversation.id, type: conversation.type };
  if (conversation.title !== undefined) out.title = conversation.title;
  if (conversation.channel !== undefined) out.channel = conversation.channel;
  out.participants = conversation.participants.map(canonicalParticipant);
  out.metadata = conversation.metadata;
  out.createdAt = conversation.createdAt;
  out.updatedAt = conversation.updatedAt;
  out.lastSeq = conversation.lastSeq;
  out.messageCount = conversation.messageCount;
  if (conversation.lastMessageAt !== undefined) out.lastMessageAt = conversation.lastMessageAt;
  if (conversation.deletedAt !== undefined) out.deletedAt = conversation.deletedAt;
  return out as Conversation;
}

export function canonicalParticipant(participant: Participant): Participant {
  const out: Participant = { id: participant.id, kind: participant.kind } as Participant;
  if (participant.name !== undefined) out.name = participant.name;
  out.joinedAt = participant.joinedAt;
  return out;
}

export function canonicalStats(stats: Stats): Stats {
  return {
    total: stats.total,
    incoming: stats.incoming,
    outgoing: stats.outgoing,
    withMedia: stats.withMedia,
    commands: stats.commands,
    adminCommands: stats.adminCommands,
    failed: stats.failed,
    deleted: stats.deleted,
    byRole: {
      user: stats.byRole.user,
      assistant: stats.byRole.assistant,
      system: stats.byRole.system,
      tool: stats.byRole.tool,
    },
    conversations: stats.conversations,
    byChannel: Object.fromEntries(
      Object.keys(stats.byChannel)
        .sort(compareUtf8)
        .map((channel) => {
          const counts = stats.byChannel[channel] as ChannelStats;
          return [channel, { conversations: counts.conversations, messages: counts.messages }];
        }),
    ),
  };
}
