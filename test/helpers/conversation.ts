// Moved into call-rig.ts (one call rig). Kept as a re-export only so branches written
// against the old path still build; import from './call-rig.js' and delete this file.
export { conversationRig, startFakeWebhook, type ConversationRig, type FakeWebhook, type Received } from './call-rig.js'
