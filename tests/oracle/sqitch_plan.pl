#!/usr/bin/env perl
# sqitch_plan.pl - ask App::Sqitch itself what it thinks of a sqitch project.
#
# Usage:
#   perl tests/oracle/sqitch_plan.pl [-C DIR] [--plan-file FILE] [--top-dir DIR]
#                                    [--compact] [TARGET]
#   perl tests/oracle/sqitch_plan.pl [-C DIR] --targets [--compact]
#
#   -C DIR / --chdir DIR   run as if started in DIR (like `sqitch -C DIR`);
#                          this folder is "the project folder": sqitch.conf
#                          is read from it and every path printed is
#                          relative to it.
#   --plan-file FILE       like `sqitch <command> --plan-file FILE`
#   --top-dir DIR          like `sqitch <command> --top-dir DIR`
#   TARGET                 a target name from sqitch.conf or a URI such as
#                          db:pg://user@127.0.0.1:55432/db or db:sqlite:x.db
#                          (like `sqitch deploy TARGET`). Without it the
#                          target comes from sqitch.conf exactly as sqitch
#                          finds it (core.target, then engine.<core.engine>
#                          .target, then db:<core.engine>:). When the folder
#                          has no configuration at all (no engine anywhere),
#                          db:pg: is used and "target_fallback" is true.
#   --compact              one line of JSON instead of pretty-printed.
#   --targets              instead of one target's plan, every target sqitch
#                          knows of in the configuration, as
#                          App::Sqitch::Target->all_targets lists them (what
#                          `sqitch add --all` and friends work on), each with
#                          its engine, plan file and script folders:
#                          {"targets": [{"name", "engine", "plan_file",
#                          "plan_file_exists", "top_dir", "deploy_dir", ...}]}
#
# Configuration is read as sqitch reads it: ./sqitch.conf (or
# $SQITCH_CONFIG), $SQITCH_USER_CONFIG or ~/.sqitch/sqitch.conf, and
# $SQITCH_SYSTEM_CONFIG or /etc/sqitch/sqitch.conf. Set the last two to
# /dev/null for reproducible answers.
#
# Output: one JSON object (UTF-8) on stdout, exit 0. If sqitch cannot load
# the target or parse the plan, the object has "error" (sqitch's own message)
# and the exit status is 2.
#
#   {
#     "sqitch_version": "v1.3.1",
#     "project": "flipr", "plan_uri": "...", "syntax_version": "1.0.0",
#     "target": "db:sqlite:", "engine": "sqlite", "target_fallback": false,
#     "local_config": "sqitch.conf", "local_config_exists": true,
#     "plan_file": "sqitch.plan", "plan_file_exists": true,
#     "top_dir": ".", "deploy_dir": "deploy", "revert_dir": "revert",
#     "verify_dir": "verify", "reworked_deploy_dir": "deploy", ...,
#     "extension": "sql",
#     "tags": [ { "name": "@v1.0.0-dev1", "id": "...", "change_index": 2 } ],
#     "changes": [
#       { "index": 2, "name": "userflips", "id": "<sha1>",
#         "format_tag_qualified_name": "userflips@v1.0.0-dev1",
#         "tags": ["@v1.0.0-dev1"], "rework_tags": ["@v1.0.0-dev2", "@v1.0.0-dev1"],
#         "is_reworked": true, "instance": 0, "instances": 2,
#         "planner_name": "...", "planner_email": "...", "timestamp": "...",
#         "note": "...",
#         "deploy_file": "deploy/userflips@v1.0.0-dev2.sql", "deploy_exists": true,
#         "revert_file": ..., "revert_exists": ..., "verify_file": ..., "verify_exists": ...,
#         "requires": [ { "dependency": "users", "project": "flipr", "change": "users",
#                         "tag": null, "id": null, "external": false,
#                         "resolves_to": 0, "resolves_to_id": "<sha1>",
#                         "latest_before": 0 } ],
#         "conflicts": [] } ],
#     "deploy_error": null
#   }
#
# "deploy_error" is what `sqitch deploy` of the whole plan to a fresh
# database refuses before it deploys anything, from the plan alone: the
# conflicts of Engine.pm's check_deploy_dependencies, run with App::Sqitch's
# own Depend objects (a conflict's id is looked up in the plan: "Unable to
# find change ... in plan ...", "Unknown tag ..."; one on a change deployed
# before it: "Conflicts with previously deployed change: ..."). A fresh
# database has no other project's changes, so conflicts on them pass and
# requirements on them are not judged here.
#
# How App::Sqitch (v1.3.1) resolves a dependency, and so what "resolves_to"
# means (the index, in plan order, of the change instance sqitch means):
#
# * Plan.pm _parse: when a change name is seen again (a rework), the older
#   instance gets rework_tags = the tags of every change between it and the
#   rework, walking the changes newest first (the tags of one change stay
#   in plan order), then its own tags. Change.pm _path_segments names all
#   three of its scripts <name><tag>.<ext> after the first of those tags
#   whose DEPLOY script exists in reworked_deploy_dir, else after the first
#   one: the first tag of the last tagged change before the rework (which
#   is also the tag `sqitch rework` writes into "requires: name@tag"). So
#   with "b @t1 @t2" right before the rework of a, the default is a@t1, not
#   a@t2. The newest instance keeps <name>.<ext>; so does any instance that
#   is never reworked.
#
# * Plan.pm check_changes runs at parse time, per tag section, for requires
#   of this project (conflicts and other projects' deps are not checked;
#   neither are deps given by id). A plain "name" passes if ANY instance of
#   it is planned earlier (same tag section: earlier in the section).
#   "name@tag" passes only if the LATEST instance of name planned before the
#   current tag section comes before @tag: it remembers one line number per
#   name, so once name is reworked and a tag follows the rework, requiring
#   "name@<older tag>" is a parse error ('Unknown change "name@tag"').
#   A plan that parses has passed this check for every change.
#
# * Depend.pm id (what `sqitch deploy` checks and records as
#   dependency_id) is $plan->find(key_name)->id:
#     - "name" (no @): ChangeList::first_index_of => the FIRST instance of
#       name in the whole plan, even when the requiring change is planned
#       after a rework. (index_of("name") would die as ambiguous; find()
#       does not use it.) The database lookup agrees: change_id_for(...,
#       first => 1) takes the earliest deployed change of that name.
#     - "name@tag": ChangeList::index_of => the LAST instance of name whose
#       index is <= the index of the change carrying @tag; an unknown tag
#       dies "Unknown tag". (Registry: latest change of that name committed
#       no later than the tag.)
#     - "@tag": the change carrying the tag.
#     - "name@HEAD" / "name@ROOT", "name^", "name~2": symbolic forms of the
#       same lookup (HEAD = last change, ROOT = first).
#     - "otherproject:name": external; not resolved against this plan
#       ("resolves_to" is null, "external" is true). If the project part is
#       this plan's own project, it is internal and resolved as above.
#     - a bare 40-hex id: internal if the id is a change or tag in this
#       plan, else external with unknown project.
#   "latest_before" is printed for contrast: the last instance of the
#   required change planned before the requiring change (what a reader
#   might expect "name" to mean). It differs from "resolves_to" only for a
#   plain-name dependency planned after a rework of that name.
#
# * Target.pm: top_dir = target.<name>.top_dir || engine.<engine>.top_dir
#   || core.top_dir || "."; plan_file = the same chain for plan_file, else
#   <top_dir>/sqitch.plan; deploy_dir = <...>.deploy_dir || <top_dir>/deploy
#   (same for revert/verify); reworked_dir defaults to top_dir and
#   reworked_<x>_dir to <reworked_dir>/<x>. A sqitch.plan elsewhere (say at
#   the repository root while top_dir = ./sql) is never read.
#
# * A missing verify script is not an error: `sqitch deploy --verify` and
#   `sqitch verify` warn (Verify script ... does not exist) and go on.

use strict;
use warnings;
use utf8;
use Cwd qw(getcwd);
use Getopt::Long qw(GetOptionsFromArray);
use JSON::PP;
use Path::Class qw(file dir);
use Try::Tiny;
use App::Sqitch;
use App::Sqitch::Config;
use App::Sqitch::Target;

my %opt;
GetOptionsFromArray(
    \@ARGV, \%opt,
    'chdir|cd|C=s', 'plan-file|f=s', 'top-dir=s', 'compact', 'targets', 'help|h',
) or usage(1);
usage(0) if $opt{help};
usage(1) if @ARGV > 1;
my $target_arg = shift @ARGV;

if ( defined $opt{chdir} ) {
    chdir $opt{chdir} or die "Cannot change to directory $opt{chdir}: $!\n";
}
my $cwd = dir(getcwd())->absolute;

my $json = JSON::PP->new->utf8->canonical;
$json->pretty unless $opt{compact};

my %out = ( sqitch_version => App::Sqitch->VERSION );

my $config = App::Sqitch::Config->new;
my $sqitch = App::Sqitch->new( config => $config, options => {} );
$out{local_config}        = rel( $config->local_file );
$out{local_config_exists} = -e $config->local_file ? JSON::PP::true : JSON::PP::false;

my @params = ( sqitch => $sqitch );
push @params, top_dir   => dir( $opt{'top-dir'} )    if defined $opt{'top-dir'};
push @params, plan_file => file( $opt{'plan-file'} ) if defined $opt{'plan-file'};

if ( $opt{targets} ) {
    my @all = try { App::Sqitch::Target->all_targets(@params) } catch {
        fail( ref $_ && eval { $_->isa('App::Sqitch::X') } ? $_->message : "$_" );
    };
    $out{targets} = [ map { layout($_) } @all ];
    print $json->encode( \%out );
    print "\n" if $opt{compact};
    exit 0;
}

my $fallback = 0;
my $target = try {
    App::Sqitch::Target->new( @params, ( defined $target_arg ? ( name => $target_arg ) : () ) );
} catch {
    my $err = $_;
    my $msg = ref $err && eval { $err->isa('App::Sqitch::X') } ? $err->message : "$err";
    # No target given and no engine configured anywhere: parse anyway.
    if ( !defined $target_arg && $msg =~ /No (?:project configuration found|engine specified)/ ) {
        $fallback = 1;
        return App::Sqitch::Target->new( @params, name => 'db:pg:' );
    }
    fail("$msg");
};
$out{target_fallback} = $fallback ? JSON::PP::true : JSON::PP::false;
$out{target}          = $target->name;
$out{engine}          = $target->engine_key;

%out = ( %out, %{ layout($target) } );
delete @out{qw(name)};

my $plan = try { my $p = $target->plan; $p->changes; $p } catch {
    my $err = $_;
    fail( ref $err && eval { $err->isa('App::Sqitch::X') } ? $err->message : "$err" );
};

$out{project}        = $plan->project;
$out{plan_uri}       = defined $plan->uri ? $plan->uri->as_string : undef;
$out{syntax_version} = $plan->syntax_version;

my @changes = $plan->changes;
my %index_of_id;
$index_of_id{ $changes[$_]->id } = $_ for 0 .. $#changes;

# Instance numbering per change name (0 = first time the name is planned).
my ( %count, %instance );
for my $i ( 0 .. $#changes ) {
    $instance{$i} = $count{ $changes[$i]->name }++;
}

my @tags;
for my $tag ( $plan->tags ) {
    push @tags, {
        name         => $tag->format_name,
        id           => $tag->id,
        change_index => $index_of_id{ $tag->change->id },
        timestamp    => $tag->timestamp->as_string,
        planner_name => $tag->planner_name,
        note         => $tag->note,
    };
}
$out{tags} = \@tags;

my @out_changes;
for my $i ( 0 .. $#changes ) {
    my $c = $changes[$i];
    my %h = (
        index                     => $i,
        name                      => $c->name,
        id                        => $c->id,
        format_name_with_tags     => $c->format_name_with_tags,
        format_tag_qualified_name => $c->format_tag_qualified_name,
        tags                      => [ map { $_->format_name } $c->tags ],
        rework_tags               => [ map { $_->format_name } $c->rework_tags ],
        is_reworked               => $c->is_reworked ? JSON::PP::true : JSON::PP::false,
        instance                  => $instance{$i},
        instances                 => $count{ $c->name },
        since_tag                 => $c->since_tag ? $c->since_tag->format_name : undef,
        parent_id                 => $c->parent ? $c->parent->id : undef,
        planner_name              => $c->planner_name,
        planner_email             => $c->planner_email,
        timestamp                 => $c->timestamp->as_string,
        note                      => $c->note,
        requires                  => [ map { dep( $_, $i ) } $c->requires ],
        conflicts                 => [ map { dep( $_, $i ) } $c->conflicts ],
    );
    for my $s (qw(deploy revert verify)) {
        my $m = "${s}_file";
        my $f = $c->$m;
        $h{$m} = rel($f);
        $h{"${s}_exists"} = -f $f ? JSON::PP::true : JSON::PP::false;
    }
    push @out_changes, \%h;
}
$out{changes} = \@out_changes;

# What deploy refuses before it deploys anything (Engine.pm
# check_deploy_dependencies, on a fresh database).
$out{deploy_error} = undef;
try {
    my ( %seen, @conflicts );
    for my $c (@changes) {
        push @conflicts => grep { $seen{ $_->id // '' } } $c->conflicts;
        $seen{ $c->id } = $c;
    }
    my %once;
    @conflicts = grep { !$once{$_}++ } map { $_->as_string } @conflicts;
    $out{deploy_error} = (
        @conflicts == 1
        ? 'Conflicts with previously deployed change: '
        : 'Conflicts with previously deployed changes: '
    ) . join( ' ', @conflicts ) if @conflicts;
} catch {
    my $msg = ref $_ && eval { $_->isa('App::Sqitch::X') } ? $_->message : "$_";
    chomp $msg;
    $out{deploy_error} = $msg;
};

print $json->encode( \%out );
print "\n" if $opt{compact};
exit 0;

sub dep {
    my ( $d, $from ) = @_;
    my %h = (
        dependency => $d->as_string,
        plan_string => $d->as_plan_string,
        project    => $d->project,
        change     => $d->change,
        tag        => $d->tag,
        given_id   => $d->got_id ? $d->id : undef,
        external   => $d->is_external ? JSON::PP::true : JSON::PP::false,
        resolves_to    => undef,
        resolves_to_id => undef,
        latest_before  => undef,
    );
    return \%h if $d->is_external;
    my $key = $d->key_name;
    my $change = try { $plan->find($key) } catch {
        $h{error} = ref $_ && eval { $_->isa('App::Sqitch::X') } ? $_->message : "$_";
        undef;
    };
    if ($change) {
        $h{resolves_to}    = $index_of_id{ $change->id };
        $h{resolves_to_id} = $change->id;
    } elsif ( !exists $h{error} ) {
        $h{error} = qq{Unable to find change "$key" in plan};
    }
    if ( defined $d->change ) {
        for ( my $j = $from - 1; $j >= 0; $j-- ) {
            if ( $changes[$j]->name eq $d->change ) { $h{latest_before} = $j; last }
        }
    }
    return \%h;
}

sub layout {
    my $t = shift;
    my %h = (
        name             => $t->name,
        engine           => $t->engine_key,
        plan_file        => rel( $t->plan_file ),
        plan_file_exists => -e $t->plan_file ? JSON::PP::true : JSON::PP::false,
        top_dir          => rel( $t->top_dir ),
        extension        => $t->extension,
    );
    for my $s (qw(deploy revert verify)) {
        my $m = "${s}_dir";
        $h{$m} = rel( $t->$m );
        my $r = "reworked_${s}_dir";
        $h{$r} = rel( $t->$r );
    }
    return \%h;
}

sub rel {
    my $p = shift;
    return undef unless defined $p;
    my $s = "$p";
    return $s if $s =~ m{^/dev/};
    my $abs = $p->is_absolute ? $p : $p->absolute($cwd);
    my $r = $abs->relative($cwd)->stringify;
    $r = '.' if $r eq '';
    return $r;
}

sub fail {
    my $msg = shift;
    chomp $msg;
    $out{error} = $msg;
    print $json->encode( \%out );
    exit 2;
}

sub usage {
    my $code = shift;
    print STDERR "usage: $0 [-C DIR] [--plan-file FILE] [--top-dir DIR] [--compact] [TARGET]\n";
    print STDERR "       $0 [-C DIR] --targets [--compact]\n";
    exit $code;
}
