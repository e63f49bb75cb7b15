import { describe, expect, it } from 'vitest';
import { faultRuleFromArgs, parsePairs } from './faultArgs.ts';
import { CliError } from '../errors.ts';

describe('vfido fault add arguments', () => {
  it('key=value pairs: JSON values when they parse, text otherwise; dotted keys nest', () => {
    expect(parsePairs(['command=getAssertion', 'attempt=[1,2]', 'listSize.min=2', 'listSize.max=5', 'rpId="42"'], '--when')).toEqual({
      command: 'getAssertion',
      attempt: [1, 2],
      listSize: { min: 2, max: 5 },
      rpId: '42',
    });
    expect(() => parsePairs(['=x'], '--when')).toThrow(CliError);
    expect(() => parsePairs(['command'], '--when')).toThrow(/--when must be KEY=VALUE/);
  });

  it('--effect with params, conditions and counts', () => {
    expect(
      faultRuleFromArgs(undefined, { effect: 'status', param: ['status=CTAP2_ERR_PIN_INVALID'], when: ['command=getAssertion'], times: '2', id: 'x' }),
    ).toEqual({ id: 'x', effect: { type: 'status', status: 'CTAP2_ERR_PIN_INVALID' }, when: { command: 'getAssertion' }, times: 2 });
    expect(faultRuleFromArgs(undefined, { effect: 'presence.deny', persist: true, probability: '0.5' })).toEqual({
      effect: 'presence.deny',
      persist: true,
      probability: 0.5,
    });
  });

  it('a JSON rule, alone', () => {
    expect(faultRuleFromArgs('{"effect":"uv.mismatch","times":2}', {})).toEqual({ effect: 'uv.mismatch', times: 2 });
    expect(() => faultRuleFromArgs('{"effect":"uv.mismatch"}', { effect: 'x' })).toThrow(/not both/);
    expect(() => faultRuleFromArgs('{nope', {})).toThrow(/not valid JSON/);
    expect(() => faultRuleFromArgs('[1]', {})).toThrow(/JSON object/);
    expect(() => faultRuleFromArgs(undefined, {})).toThrow(/--effect/);
    expect(() => faultRuleFromArgs(undefined, { effect: 'x', times: 'many' })).toThrow(/--times must be a number/);
  });
});
