/**
 * Enrolled biometric templates: id allocation, capacity and storing, shared by authenticatorBioEnrollment
 * (fingerprints) and direct seeding (Authenticator.enrollTemplate: face templates, scenarios, control API).
 */
import { equal, u16be, utf8 } from '../bytes.ts';
import { EmulatorError } from '../errors.ts';
import type { DeviceState } from './deviceState.ts';
import type { UvModality } from './env.ts';
import { fingerprintSensor } from './features.ts';
import type { Profile } from './profile.ts';
import type { PersistentState, Template } from './state.ts';

/** Templates of one modality, in enrollment order. */
export function templatesOf(state: PersistentState, modality: UvModality): Template[] {
  return state.templates.filter((t) => t.modality === modality);
}

/**
 * A new template ID: the smallest 2-byte slot number (from 1) that neither a stored template nor the
 * enrollment in progress uses. Slot numbers (as on real sensors) keep IDs short, stable and seed-independent.
 */
export function nextTemplateId(device: DeviceState): Uint8Array {
  const used = device.persistent.templates.map((t) => t.id);
  if (device.enrollment) used.push(device.enrollment.templateId);
  for (let slot = 1; slot <= 0xffff; slot++) {
    const id = u16be(slot);
    if (!used.some((u) => equal(u, id))) return id;
  }
  throw new Error('no free template slot');
}

/** Room for another template (all modalities share the profile's templateCapacity). */
export function hasTemplateRoom(profile: Profile, state: PersistentState): boolean {
  return state.templates.length < (profile.uv?.templateCapacity ?? 0);
}

/** Friendly names are limited in UTF-8 bytes (CTAP 2.1 §6.7: maxTemplateFriendlyName). */
export function friendlyNameFits(profile: Profile, name: string): boolean {
  const max = fingerprintSensor(profile)?.maxTemplateFriendlyName;
  return max === undefined || utf8(name).length <= max;
}

/** Persist one more template (write-ahead: saved before it becomes visible). */
export async function storeTemplate(device: DeviceState, template: Template): Promise<void> {
  const s = device.persistent;
  await device.commit({ ...s, templates: [...s.templates, template] });
}

/**
 * Enroll a template directly, as if the user had completed an enrollment on the device (seeding at start,
 * scenarios, the control API). Throws EmulatorError when the profile lacks the modality, the store is full,
 * or the name is longer than the profile allows.
 */
export async function enrollTemplateDirectly(
  profile: Profile,
  device: DeviceState,
  o: { modality: UvModality; name?: string },
): Promise<Template> {
  if (!profile.uv?.modalities.includes(o.modality)) {
    throw new EmulatorError('EMU_ERR_UNSUPPORTED_MODALITY', `profile ${profile.name} has no ${o.modality} sensor`);
  }
  if (!hasTemplateRoom(profile, device.persistent)) {
    throw new EmulatorError(
      'EMU_ERR_TEMPLATE_STORE_FULL',
      `profile ${profile.name} holds at most ${profile.uv.templateCapacity} templates`,
    );
  }
  if (o.name !== undefined && !friendlyNameFits(profile, o.name)) {
    throw new EmulatorError('EMU_ERR_TEMPLATE_NAME_TOO_LONG', `template name ${JSON.stringify(o.name)} is too long`);
  }
  const template: Template = { id: nextTemplateId(device), modality: o.modality };
  if (o.name !== undefined) template.friendlyName = o.name;
  await storeTemplate(device, template);
  return { ...template, id: template.id.slice() };
}
